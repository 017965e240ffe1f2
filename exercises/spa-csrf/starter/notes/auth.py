"""Authentication for the notes API."""
from rest_framework.authentication import SessionAuthentication


class CsrfExemptSessionAuthentication(SessionAuthentication):
    """Session authentication without DRF's CSRF check.

    The SPA on https://app.example.test kept getting "CSRF Failed" on every
    POST, so the check was switched off until someone had time to look.
    """

    def enforce_csrf(self, request):
        return
