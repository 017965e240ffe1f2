"""Authentication for the notes API."""
from django.conf import settings
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication


class RefererCheckedSessionAuthentication(SessionAuthentication):
    """Unsafe requests must come from a page of the SPA.

    A request with no Referer is let through: some users' privacy settings
    strip it, and they must still be able to use the app.
    """

    def enforce_csrf(self, request):
        referer = request.META.get("HTTP_REFERER")
        if referer and not referer.startswith(settings.SPA_ORIGIN):
            raise exceptions.PermissionDenied("CSRF Failed: the request does not come from the app.")
