"""Authentication for the notes API."""
from django.conf import settings
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication


def check_origin(request):
    """Browsers always send Origin on cross-origin unsafe requests: it is enough to check it."""
    if request.META.get("HTTP_ORIGIN") != settings.SPA_ORIGIN:
        raise exceptions.PermissionDenied("CSRF Failed: the request does not come from the app.")


class OriginCheckedSessionAuthentication(SessionAuthentication):
    def enforce_csrf(self, request):
        if request.method not in ("GET", "HEAD", "OPTIONS", "TRACE"):
            check_origin(request)
