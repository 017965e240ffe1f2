"""The project's Celery app.

Configuration comes from Django's settings, every key prefixed CELERY_
(CELERY_BROKER_URL, CELERY_TASK_SERIALIZER, ...). The worker fleet runs the
released orders.tasks module against the same broker.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")

app = Celery("shop")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
