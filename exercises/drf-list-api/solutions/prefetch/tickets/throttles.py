from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class PerUserThrottle(UserRateThrottle):
    """20/hour per signed-in user (scope "user"); anonymous requests fall to the next class."""

    def get_cache_key(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class PerAddressThrottle(AnonRateThrottle):
    """5/hour per anonymous client, identified by the connection's address.

    There is no proxy in front of the API, so X-Forwarded-For is whatever
    the client wrote: DRF's default get_ident would believe it.
    """

    def get_ident(self, request):
        return request.META.get("REMOTE_ADDR", "")
