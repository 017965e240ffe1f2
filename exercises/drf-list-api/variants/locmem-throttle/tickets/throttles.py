from django.core.cache.backends.locmem import LocMemCache
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

# The database cache costs a few queries per request: keep throttle state in
# memory instead.
memory = LocMemCache("throttles", {"TIMEOUT": 3600, "OPTIONS": {"MAX_ENTRIES": 10000}})


class PerUserThrottle(UserRateThrottle):
    cache = memory

    def get_cache_key(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class PerAddressThrottle(AnonRateThrottle):
    cache = memory

    def get_ident(self, request):
        return request.META.get("REMOTE_ADDR", "")
