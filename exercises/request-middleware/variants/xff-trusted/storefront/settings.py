"""Settings for the storefront API (SQLite; graded runs use the judge's PostgreSQL)."""

from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = "not-a-secret-exercise-only"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "orders",
]

MIDDLEWARE = [
    # First: its id and timing cover every other middleware, and every
    # answer they make passes through it.
    "orders.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "storefront.apikey.ApiKeyMiddleware",
]
ROOT_URLCONF = "storefront.urls"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": BASE_DIR / "db.sqlite3",
    }
}

USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Keys of the partners allowed under /api/private/.
API_KEYS = ["pk-live-6f1c2a9e4b7d", "pk-live-0d3e8b5a1c92"]

# The load balancer in front of the app connects from these addresses and
# sets X-Request-ID on what it forwards. Nobody else is trusted to.
TRUSTED_PROXIES = ["127.0.0.1"]

# Every record goes to the log collector (storefront/logship.py).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "orders.request_id.RequestIdFilter"},
    },
    "handlers": {
        "collector": {
            "class": "storefront.logship.CollectorHandler",
            "host": "127.0.0.1",
            "port": 5170,
            "filters": ["request_id"],
        },
    },
    "root": {"handlers": ["collector"], "level": "INFO"},
}
