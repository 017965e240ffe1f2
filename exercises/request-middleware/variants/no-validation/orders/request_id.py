"""Request ids and timing: one middleware, first in MIDDLEWARE, and a log filter."""

import contextvars
import logging
import re
import time
import uuid

from django.conf import settings

VALID = re.compile(r"[A-Za-z0-9_-]{8,64}")
current = contextvars.ContextVar("request_id", default=None)


def incoming_id(request):
    """incoming_id is the load balancer's X-Request-ID when it is valid, else None."""
    if request.META.get("REMOTE_ADDR") not in settings.TRUSTED_PROXIES:
        return None
    given = request.META.get("HTTP_X_REQUEST_ID", "")
    return given.strip() or None


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        began = time.perf_counter()
        rid = incoming_id(request) or uuid.uuid4().hex
        request.id = rid
        token = current.set(rid)
        try:
            response = self.get_response(request)
        finally:
            current.reset(token)
        response["X-Request-ID"] = rid
        response["Server-Timing"] = "total;dur=%.1f" % ((time.perf_counter() - began) * 1000)
        return response


class RequestIdFilter(logging.Filter):
    def filter(self, record):
        record.request_id = current.get()
        return True
