"""Checkout: turning a cart into an order."""

from django.db import IntegrityError, transaction
from django.db.models import F

from .models import Order, OrderLine, Product


class OutOfStock(Exception):
    """OutOfStock: the cart asks for more units of a product than are left."""

    def __init__(self, product_id):
        super().__init__(product_id)
        self.product_id = product_id


def _take(item):
    """_take removes the item's units from the shelf; the CHECK constraint refuses to go below zero."""
    try:
        with transaction.atomic():  # a savepoint: the failed UPDATE is undone alone
            Product.objects.filter(pk=item["product"]).update(stock=F("stock") - item["quantity"])
    except IntegrityError:
        raise OutOfStock(item["product"]) from None


def place_order(customer, items):
    """place_order sells the cart's items to customer, all or nothing, and returns the Order.

    The decrement is relative (stock = stock - n) and the database's
    CHECK (stock >= 0) is the guard: a sale that would take the stock
    below zero fails inside the database, and the whole cart is rolled
    back. Products are decremented in id order so that carts never wait
    on each other in a cycle.
    """
    ids = sorted(item["product"] for item in items)
    by_id = {item["product"]: item for item in items}
    with transaction.atomic():
        for pk in ids:
            _take(by_id[pk])
        prices = dict(Product.objects.filter(pk__in=ids).values_list("pk", "price_cents"))
        order = Order.objects.create(
            customer=customer, total_cents=sum(prices[item["product"]] * item["quantity"] for item in items)
        )
        for item in items:
            OrderLine.objects.create(
                order=order, product_id=item["product"], quantity=item["quantity"], price_cents=prices[item["product"]]
            )
    return order
