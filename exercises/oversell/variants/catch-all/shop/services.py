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
    """Takes each item with a guarded UPDATE, in the cart's order."""
    prices = dict(Product.objects.filter(pk__in=[item["product"] for item in items]).values_list("pk", "price_cents"))
    with transaction.atomic():
        for item in items:
            taken = Product.objects.filter(pk=item["product"], stock__gte=item["quantity"]).update(
                stock=F("stock") - item["quantity"]
            )
            if not taken:
                raise OutOfStock(item["product"])
        order = Order.objects.create(
            customer=customer, total_cents=sum(prices[item["product"]] * item["quantity"] for item in items)
        )
        for item in items:
            OrderLine.objects.create(
                order=order, product_id=item["product"], quantity=item["quantity"], price_cents=prices[item["product"]]
            )
    return order
