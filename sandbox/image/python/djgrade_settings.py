"""Django settings for graded runs: the exercise's own settings, on the judge's PostgreSQL.

Both containers of a graded run use this module as DJANGO_SETTINGS_MODULE,
with the exercise's settings module named by DJGRADE_BASE_SETTINGS:

  * in the candidate's container (DJGRADE_ROLE=app) the project connects as
    the unprivileged app role over loopback TCP, with this run's password;
  * in the judge's container (DJGRADE_ROLE=judge) the hidden checks connect
    as the judge's superuser over its private unix socket.

Everything else (apps, middleware, REST_FRAMEWORK, ...) is the exercise's.
Passwords use a fast hasher on both sides so that Basic authentication
costs one query and no CPU-second per request.
"""

import importlib
import os

_base = os.environ.get("DJGRADE_BASE_SETTINGS", "")
if not _base:
    raise RuntimeError("DJGRADE_BASE_SETTINGS names no settings module")
for _name, _value in vars(importlib.import_module(_base)).items():
    if _name.isupper():
        globals()[_name] = _value

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": os.environ.get("DJGRADE_DB_HOST", "127.0.0.1"),
        "PORT": os.environ.get("DJGRADE_DB_PORT", "5432"),
        "NAME": os.environ.get("DJGRADE_DB_NAME", "djgrade"),
        "USER": os.environ.get("DJGRADE_DB_USER", "app"),
        "PASSWORD": os.environ.get("DJGRADE_DB_PASSWORD", ""),
        "ATOMIC_REQUESTS": globals().get("DATABASES", {}).get("default", {}).get("ATOMIC_REQUESTS", False),
        # The app keeps its connections between requests (as production
        # would): a new connection per request, with its SCRAM exchange, was
        # most of a request's time. The judge's own connection is one.
        "CONN_MAX_AGE": 60 if os.environ.get("DJGRADE_ROLE") == "app" else 0,
    }
}
# Exercises with a broker (services: [redis]): Celery, configured from
# Django settings with the CELERY namespace, publishes to the judge's Redis,
# as the app's user in the candidate's container and as the judge in the
# judge's.
if os.environ.get("DJGRADE_REDIS_URL"):
    CELERY_BROKER_URL = os.environ["DJGRADE_REDIS_URL"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ALLOWED_HOSTS = list(globals().get("ALLOWED_HOSTS", [])) + ["testserver", "127.0.0.1", "localhost"]
DEBUG = False
