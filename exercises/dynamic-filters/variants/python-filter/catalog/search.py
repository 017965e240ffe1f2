"""The product search, applied in Python to the whole catalogue: easy to read, right answers."""

from .models import Product


def _given(value):
    return value is not None and value != ""


def _in_group(product, tag_names, group):
    if _given(group.get("price_min")) and product.price < group["price_min"]:
        return False
    if _given(group.get("price_max")) and product.price > group["price_max"]:
        return False
    released = product.released_on.isoformat()
    if _given(group.get("released_from")) and released < group["released_from"]:
        return False
    if _given(group.get("released_to")) and released > group["released_to"]:
        return False
    return all(t in tag_names for t in group.get("tags") or [])


def _matches(product, params):
    tag_names = [t.name for t in product.tags.all()]
    text = (params.get("text") or "").strip().lower()
    if text and not (text in product.name.lower() or text in product.sku.lower()
                     or any(text in t.lower() for t in tag_names)):
        return False
    groups = params.get("groups") or []
    if groups:
        hits = [_in_group(product, tag_names, g) for g in groups]
        if not (any(hits) if params.get("match") == "any" else all(hits)):
            return False
    brand = params.get("exclude_brand")
    if brand and product.brand is not None and product.brand.lower() == brand.lower():
        return False
    return True


def search_products(params):
    everything = Product.objects.select_related("vendor").prefetch_related("tags").order_by("price", "id")
    return [p for p in everything if _matches(p, params)]
