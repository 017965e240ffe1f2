"""Request ids on a thread-local, a log record factory, and a separate timing middleware.

gunicorn's gthread workers run each request start to end on one thread, so
a thread-local set when the request begins is the request's for its whole
life. The record factory stamps every record made on that thread.
"""

import logging
import secrets
import string
import threading
import time

from django.conf import settings
from django.utils.deprecation import MiddlewareMixin

ALLOWED = set(string.ascii_letters + string.digits + "-_")
_local = threading.local()


def timing_middleware(get_response):
    def middleware(request):
        began = time.monotonic_ns()
        response = get_response(request)
        response["Server-Timing"] = "total;dur=%d.%03d" % divmod((time.monotonic_ns() - began) // 1000, 1000)
        return response

    return middleware


def _acceptable(value):
    return 8 <= len(value) <= 64 and set(value) <= ALLOWED


class RequestIdMiddleware(MiddlewareMixin):
    def process_request(self, request):
        proxied = request.META.get("REMOTE_ADDR", "") in settings.TRUSTED_PROXIES
        given = request.META.get("HTTP_X_REQUEST_ID", "")
        request.request_id = given if proxied and _acceptable(given) else secrets.token_urlsafe(18)
        _local.request_id = request.request_id

    def process_response(self, request, response):
        response.headers["X-Request-ID"] = getattr(request, "request_id", None) or secrets.token_urlsafe(18)
        _local.request_id = None
        return response


_make_record = logging.getLogRecordFactory()


def _record(*args, **kwargs):
    record = _make_record(*args, **kwargs)
    record.request_id = getattr(_local, "request_id", None)
    return record


logging.setLogRecordFactory(_record)
