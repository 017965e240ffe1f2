from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class PerUserThrottle(UserRateThrottle):
    """20/hour for signed-in users (scope "user"); anonymous requests fall to the next class."""

    def get_cache_key(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return None
        # One bucket for the scope: the rate is the scope's.
        return "throttle_%s" % self.scope


class PerAddressThrottle(AnonRateThrottle):
    """5/hour per anonymous client, identified by the connection's address."""

    def get_ident(self, request):
        return request.META.get("REMOTE_ADDR", "")
