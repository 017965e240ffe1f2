"""gunicorn for the candidate's project (the agent's /serve), with Django's
own modules imported in the arbiter before it forks its workers.

Started as ``python3 -m gunicorn``, each of the workers imported Django,
DRF and psycopg2 for itself: most of a worker's start-up CPU, paid once
per worker. Forked from an arbiter that already holds them, a worker only
imports the candidate's project (settings, apps, then the URLconf on its
first request), itself and after the fork, exactly as before: no code of
the candidate's runs in the arbiter. Only modules that import without
settings are loaded here (the rule of djgrade_warm_pytest.py), so the
arbiter reads no setting either. The arguments are gunicorn's own.
"""

import sys

from djgrade_warm_pytest import preload

# Settings-free modules a served project's worker imports anyway, in the
# order they pull each other in.
APP_PRELOAD = (
    "gunicorn.app.wsgiapp", "gunicorn.workers.gthread",
    "django.db.models", "django.core.handlers.wsgi", "django.core.wsgi", "django.urls", "django.http",
    "django.views.generic", "django.template.backends.django", "django.contrib.auth.hashers",
    "django.middleware.common", "django.middleware.csrf", "django.middleware.security",
    "django.contrib.sessions.middleware", "django.contrib.messages.middleware",
    "psycopg2", "django.db.backends.postgresql.base",
    "rest_framework", "rest_framework.serializers", "rest_framework.permissions",
    "rest_framework.response", "rest_framework.authentication",
)


def main():
    sys.dont_write_bytecode = True
    preload(APP_PRELOAD)
    from gunicorn.app.wsgiapp import run

    sys.argv[0] = "gunicorn"
    run()


if __name__ == "__main__":
    main()
