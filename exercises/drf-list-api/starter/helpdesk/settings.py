"""Settings for the helpdesk API: SQLite by default, PostgreSQL when DJGRADE_DB_ENGINE=postgres."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = "not-a-secret-exercise-only"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "rest_framework",
    "tickets",
]

MIDDLEWARE = [
    "django.middleware.common.CommonMiddleware",
]
ROOT_URLCONF = "helpdesk.urls"

if os.environ.get("DJGRADE_DB_ENGINE") == "postgres":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "HOST": os.environ.get("DJGRADE_DB_HOST", ""),
            "PORT": os.environ.get("DJGRADE_DB_PORT", "5432"),
            "NAME": os.environ.get("DJGRADE_DB_NAME", "djgrade"),
            "USER": os.environ.get("DJGRADE_DB_USER", ""),
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

# The API runs as several processes (gunicorn workers), so throttle state
# lives in a cache they all share: a table in the database, created by the
# migration tickets/0002_throttle_cache (and by the test runner).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "throttle_cache",
    }
}

USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REST_FRAMEWORK = {
    # Basic auth keeps the project free of sessions; the public tests
    # authenticate with APIClient.force_authenticate.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.BasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.AllowAny",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
    ],
    # The budgets of the prompt: per signed-in user, per anonymous address.
    "DEFAULT_THROTTLE_RATES": {
        "user": "20/hour",
        "anon": "5/hour",
    },
}
