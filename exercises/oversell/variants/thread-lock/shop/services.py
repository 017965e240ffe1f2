"""Checkout: turning a cart into an order."""

import threading

from django.db import transaction

from .models import Order, OrderLine, Product


class OutOfStock(Exception):
    """OutOfStock: the cart asks for more units of a product than are left."""

    def __init__(self, product_id):
        super().__init__(product_id)
        self.product_id = product_id


_checkout = threading.Lock()


def place_order(customer, items):
    """One checkout at a time: the read, the check and the save happen under a lock."""
    with _checkout:
        products = Product.objects.in_bulk([item["product"] for item in items])
        for item in items:
            if products[item["product"]].stock < item["quantity"]:
                raise OutOfStock(item["product"])
        with transaction.atomic():
            for pk in sorted(products):
                product = products[pk]
                product.stock -= next(i["quantity"] for i in items if i["product"] == pk)
                product.save(update_fields=["stock"])
            order = Order.objects.create(
                customer=customer,
                total_cents=sum(products[item["product"]].price_cents * item["quantity"] for item in items),
            )
            for item in items:
                product = products[item["product"]]
                OrderLine.objects.create(
                    order=order, product=product, quantity=item["quantity"], price_cents=product.price_cents
                )
        return order
