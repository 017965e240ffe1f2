"""The product search: turns the JSON body of a search request into a queryset."""

from functools import reduce
from operator import and_, or_

from django.db.models import Q

from .models import Product


def _present(value):
    return value is not None and value != ""


def group_q(group):
    """group_q is the condition of one group (every condition in it holds); Q() when it has none."""
    q = Q()
    if _present(group.get("price_min")):
        q &= Q(price__gte=group["price_min"])
    if _present(group.get("price_max")):
        q &= Q(price__lte=group["price_max"])
    if _present(group.get("released_from")):
        q &= Q(released_on__gte=group["released_from"])
    if _present(group.get("released_to")):
        q &= Q(released_on__lte=group["released_to"])
    for tag in group.get("tags") or []:
        # One subquery per tag: inside one filter(), Q(tags__name=a) & Q(tags__name=b)
        # would ask one tag row to carry both names.
        q &= Q(pk__in=Product.tags.through.objects.filter(tag__name=tag).values("product_id"))
    return q


def search_products(params):
    qs = Product.objects.all()
    where = Q()

    text = (params.get("text") or "").strip()
    needs_distinct = False
    if text:
        where &= Q(name__icontains=text) | Q(sku__icontains=text) | Q(tags__name__icontains=text)
        needs_distinct = True

    groups = [group_q(g) for g in params.get("groups") or []]
    if groups:
        if params.get("match") == "any":
            # An empty group matches everything, and Q() | q would silently drop it.
            if all(groups):
                where &= reduce(or_, groups)
        else:
            where &= reduce(and_, groups)

    brand = params.get("exclude_brand")
    if brand:
        where &= ~Q(brand__iexact=brand)

    qs = qs.filter(where)
    if needs_distinct:
        qs = qs.distinct()
    return qs.order_by("price", "id")
