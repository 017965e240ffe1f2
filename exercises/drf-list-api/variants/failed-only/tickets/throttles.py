from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class RecordLater:
    """Checks the budget before the view; the request is recorded afterwards, by the view, if it failed.

    The pattern of a login limiter: only failures spend the budget.
    """

    def throttle_success(self):
        return True

    def record(self):
        history = self.cache.get(self.key, [])
        history.insert(0, self.timer())
        self.cache.set(self.key, history, self.duration)


class PerUserThrottle(RecordLater, UserRateThrottle):
    def get_cache_key(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class PerAddressThrottle(RecordLater, AnonRateThrottle):
    def get_ident(self, request):
        return request.META.get("REMOTE_ADDR", "")
