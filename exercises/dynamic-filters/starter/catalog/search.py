"""The product search: turns the JSON body of a search request into a queryset."""

from django.db.models import Q
from django.db.models.functions import Lower

from .models import Product


def search_products(params):
    qs = Product.objects.all()

    text = params.get("text")
    if text:
        qs = qs.filter(Q(name__icontains=text) | Q(sku__icontains=text) | Q(tags__name__icontains=text))

    for group in params.get("groups") or []:
        if group.get("price_min"):
            qs = qs.filter(price__gte=group["price_min"])
        if group.get("price_max"):
            qs = qs.filter(price__lte=group["price_max"])
        if group.get("released_from"):
            qs = qs.filter(released_on__gte=group["released_from"])
        if group.get("released_to"):
            qs = qs.filter(released_on__lte=group["released_to"])
        for tag in group.get("tags") or []:
            qs = qs.filter(tags__name=tag)

    brand = params.get("exclude_brand")
    if brand:
        qs = qs.annotate(brand_lower=Lower("brand")).exclude(brand_lower=brand.lower())

    return qs.order_by("price", "id")
