"""Product search built from a table of filters, with EXISTS subqueries for the tags."""

from django.db.models import Exists, OuterRef, Q

from .models import Product

ProductTag = Product.tags.through

# key of a group -> lookup on Product
BOUNDS = {
    "price_min": "price__gte",
    "price_max": "price__lte",
    "released_from": "released_on__gte",
    "released_to": "released_on__lte",
}


def has_tag(**lookup):
    return Exists(ProductTag.objects.filter(product_id=OuterRef("pk"), **{"tag__" + k: v for k, v in lookup.items()}))


def group_condition(group):
    """group_condition is a list of conditions that must all hold; [] when the group is empty."""
    conds = [Q(**{lookup: group[key]}) for key, lookup in BOUNDS.items() if group.get(key) not in (None, "")]
    conds += [Q(has_tag(name=t)) for t in (group.get("tags") or [])]
    return conds


def all_of(conds):
    q = Q()
    for c in conds:
        q = q & c
    return q


def search_products(params):
    conditions = []

    text = params.get("text")
    if isinstance(text, str) and text.strip():
        t = text.strip()
        conditions.append(Q(name__icontains=t) | Q(sku__icontains=t) | Q(has_tag(name__icontains=t)))

    groups = [group_condition(g) for g in (params.get("groups") or [])]
    if params.get("match") == "any":
        if groups and all(groups):
            alternative = Q(all_of(groups[0]))
            for g in groups[1:]:
                alternative = alternative | all_of(g)
            conditions.append(alternative)
    else:
        for g in groups:
            conditions.extend(g)

    brand = params.get("exclude_brand")
    if brand:
        conditions.append(Q(brand__isnull=True) | ~Q(brand__iexact=brand))

    qs = Product.objects.filter(*conditions) if conditions else Product.objects.all()
    return qs.select_related("vendor").prefetch_related("tags").order_by("price", "pk")
