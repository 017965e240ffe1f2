"""API keys for the partner endpoints under /api/private/.

A request without a known X-Api-Key is refused here with a 401, before any
view runs, and the refusal is logged. Do not change this file: it is not
one a candidate may edit.
"""

import hmac
import logging

from django.conf import settings
from django.http import JsonResponse

log = logging.getLogger("storefront.apikey")


class ApiKeyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/private/"):
            given = request.headers.get("X-Api-Key", "")
            if not any(hmac.compare_digest(given.encode(), key.encode()) for key in settings.API_KEYS):
                log.warning("rejected API key for %s", request.path)
                return JsonResponse({"detail": "a valid X-Api-Key is required"}, status=401)
        return self.get_response(request)
