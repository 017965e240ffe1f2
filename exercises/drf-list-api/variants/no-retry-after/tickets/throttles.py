import time

from django.core.cache import cache
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle


class ListThrottle(BaseThrottle):
    """A sliding hour per signed-in user or per connection address, in the shared cache."""

    def allow_request(self, request, view):
        if request.user and request.user.is_authenticated:
            scope, ident = "user", request.user.pk
        else:
            scope, ident = "anon", request.META.get("REMOTE_ADDR", "")
        limit = int(api_settings.DEFAULT_THROTTLE_RATES[scope].split("/")[0])
        key = "list:%s:%s" % (scope, ident)
        now = time.time()
        recent = [t for t in cache.get(key, []) if t > now - 3600]
        if len(recent) >= limit:
            return False
        cache.set(key, [now] + recent, 3600)
        return True
