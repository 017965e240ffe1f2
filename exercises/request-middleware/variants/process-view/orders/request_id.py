"""Request ids and timing, started when the view is about to run."""

import logging
import re
import threading
import time
import uuid

from django.conf import settings
from django.utils.deprecation import MiddlewareMixin

VALID = re.compile(r"[A-Za-z0-9_-]{8,64}")
_local = threading.local()


class RequestIdMiddleware(MiddlewareMixin):
    def process_view(self, request, view_func, view_args, view_kwargs):
        given = request.META.get("HTTP_X_REQUEST_ID", "")
        trusted = request.META.get("REMOTE_ADDR") in settings.TRUSTED_PROXIES
        request.request_id = given if trusted and VALID.fullmatch(given) else uuid.uuid4().hex
        request.started = time.perf_counter()
        _local.request_id = request.request_id

    def process_response(self, request, response):
        if hasattr(request, "request_id"):
            response["X-Request-ID"] = request.request_id
            response["Server-Timing"] = "total;dur=%.1f" % ((time.perf_counter() - request.started) * 1000)
        _local.request_id = None
        return response


class RequestIdFilter(logging.Filter):
    def filter(self, record):
        record.request_id = getattr(_local, "request_id", None)
        return True
