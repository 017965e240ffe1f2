"""A fixed window per client that opens with its first request: simple, and shared through the cache."""

import math
import time

from django.core.cache import cache
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

WINDOW = 3600  # the rates of settings are per hour


def _rate(scope):
    count, period = api_settings.DEFAULT_THROTTLE_RATES[scope].split("/")
    assert period.startswith("h"), "rates are per hour"
    return int(count)


class WindowThrottle(BaseThrottle):
    """Signed-in users count per user id, anonymous clients per connection address.

    Nothing the client sends (X-Forwarded-For included) picks its bucket:
    there is no proxy in front of the API.
    """

    def allow_request(self, request, view):
        user = request.user
        if user is not None and user.is_authenticated:
            scope, ident = "user", "u%d" % user.pk
        else:
            scope, ident = "anon", "a%s" % request.META.get("REMOTE_ADDR", "")
        key = "window:%s:%s" % (scope, ident)
        now = time.time()
        start, count = cache.get(key) or (now, 0)
        if now - start >= WINDOW:
            start, count = now, 0
        if count >= _rate(scope):
            self._wait = max(1, math.ceil(start + WINDOW - now))
            return False
        cache.set(key, (start, count + 1), timeout=math.ceil(start + WINDOW - now) + 1)
        return True

    def wait(self):
        return self._wait
