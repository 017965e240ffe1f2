"""Settings for the notes API behind the single-page app.

In production the API is https://api.example.test and the SPA is served from
https://app.example.test; a TLS-terminating proxy in front of gunicorn sets
X-Forwarded-Proto.

SQLite by default; the grader's sandbox exports DJGRADE_DB_* to switch to
PostgreSQL for exercises that need it.
"""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = "django-insecure-interview-exercise-only"
DEBUG = False
ALLOWED_HOSTS = ["api.example.test", "testserver", "localhost", "127.0.0.1"]

# The proxy in front of gunicorn terminates TLS and says so in this header.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "rest_framework",
    "notes",
]

MIDDLEWARE = [
    "config.cors.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": []},
    }
]

if os.environ.get("DJGRADE_DB_ENGINE") == "postgres":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "HOST": os.environ.get("DJGRADE_DB_HOST", "127.0.0.1"),
            "PORT": os.environ.get("DJGRADE_DB_PORT", "5432"),
            "NAME": os.environ.get("DJGRADE_DB_NAME", "djgrade"),
            "USER": os.environ.get("DJGRADE_DB_USER", "djgrade"),
            "PASSWORD": os.environ.get("DJGRADE_DB_PASSWORD", ""),
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": BASE_DIR / "db.sqlite3",
        }
    }

# Fast hashing: the tests create users, and the default hasher would make
# each one cost a few hundred milliseconds for nothing.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en-us"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

SPA_ORIGIN = "https://app.example.test"

# app.example.test and api.example.test are the same site: Lax cookies reach
# the API from the SPA and from nowhere else.
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# Unsafe requests must come from the SPA's origin (and carry its token).
CSRF_TRUSTED_ORIGINS = [SPA_ORIGIN]

# CORS (config/cors.py reads these): the SPA only.
CORS_ALLOWED_ORIGINS = [SPA_ORIGIN]
CORS_ALLOW_CREDENTIALS = True
CORS_ALLOW_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
CORS_ALLOW_HEADERS = ["content-type", "x-csrftoken"]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
