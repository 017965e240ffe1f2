from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class PerUserThrottle(UserRateThrottle):
    """20/hour per signed-in user (scope "user")."""


class PerAddressThrottle(AnonRateThrottle):
    """5/hour per anonymous client, as DRF identifies it (X-Forwarded-For when the request has one)."""
