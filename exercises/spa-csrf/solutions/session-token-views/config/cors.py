"""CORS for the SPA: exact origins from settings, credentials always, nothing for anyone else."""
from django.conf import settings
from django.http import HttpResponse
from django.utils.cache import patch_vary_headers


def CorsMiddleware(get_response):
    def middleware(request):
        origin = request.META.get("HTTP_ORIGIN")
        allowed = origin is not None and origin in tuple(settings.CORS_ALLOWED_ORIGINS)
        is_preflight = request.method == "OPTIONS" and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in request.META
        if is_preflight:
            response = HttpResponse(status=204 if allowed else 403)
        else:
            response = get_response(request)
        patch_vary_headers(response, ("Origin",))
        if allowed:
            response["Access-Control-Allow-Origin"] = origin
            response["Access-Control-Allow-Credentials"] = "true"
            if is_preflight:
                response["Access-Control-Allow-Methods"] = ", ".join(settings.CORS_ALLOW_METHODS)
                response["Access-Control-Allow-Headers"] = ", ".join(settings.CORS_ALLOW_HEADERS)
        return response

    return middleware
