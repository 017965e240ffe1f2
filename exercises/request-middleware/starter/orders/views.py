"""The storefront's endpoints. Do not change this file: it is not one a candidate may edit."""

import logging

from django.http import JsonResponse

from . import services

log = logging.getLogger("orders.views")


def ping(request, ref):
    """GET /api/ping/<ref>/?ms=N: a quote that takes N ms (0 to 1000)."""
    try:
        ms = min(max(int(request.GET.get("ms", "0")), 0), 1000)
    except ValueError:
        ms = 0
    log.info("quote requested %s", ref)
    body = services.quote(ref, ms)
    log.info("quote sent %s", ref)
    return JsonResponse(body)


def boom(request, ref):
    """GET /api/boom/<ref>/: a bug; the exception reaches Django, which answers 500 and logs it."""
    log.info("about to fail %s", ref)
    raise RuntimeError("the pricing service returned garbage for %s" % ref)


def private(request, ref):
    """GET /api/private/<ref>/: for partners with an API key (storefront/apikey.py)."""
    log.info("partner lookup %s", ref)
    return JsonResponse({"ref": ref, "partner": True})
