"""Checkout: turning a cart into an order."""

from django.db import transaction
from django.db.models import F

from .models import Order, OrderLine, Product


class OutOfStock(Exception):
    """OutOfStock: the cart asks for more units of a product than are left."""

    def __init__(self, product_id):
        super().__init__(product_id)
        self.product_id = product_id


def place_order(customer, items):
    """place_order sells the cart's items to customer, all or nothing, and returns the Order.

    Every unit is taken by one conditional UPDATE ("take n if at least n are
    left"), so the check and the write are one step in the database. The
    rows are taken in primary-key order whatever the cart's order, so two
    carts holding the same products always lock them in the same order and
    cannot deadlock. Anything short rolls the whole cart back.
    """
    prices = dict(Product.objects.filter(pk__in=[item["product"] for item in items]).values_list("pk", "price_cents"))
    with transaction.atomic():
        for item in sorted(items, key=lambda item: item["product"]):
            taken = Product.objects.filter(pk=item["product"], stock__gte=item["quantity"]).update(
                stock=F("stock") - item["quantity"]
            )
            if not taken:
                raise OutOfStock(item["product"])  # leaves the atomic block: nothing is kept
        order = Order.objects.create(
            customer=customer, total_cents=sum(prices[item["product"]] * item["quantity"] for item in items)
        )
        # Lines in the cart's order: the response lists them that way.
        OrderLine.objects.bulk_create(
            [
                OrderLine(order=order, product_id=item["product"], quantity=item["quantity"],
                          price_cents=prices[item["product"]])
                for item in items
            ]
        )
    return order
