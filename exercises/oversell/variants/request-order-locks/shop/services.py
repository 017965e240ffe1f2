"""Checkout: turning a cart into an order."""

from django.db import transaction

from .models import Order, OrderLine, Product


class OutOfStock(Exception):
    """OutOfStock: the cart asks for more units of a product than are left."""

    def __init__(self, product_id):
        super().__init__(product_id)
        self.product_id = product_id


def place_order(customer, items):
    """Locks each product of the cart (in the cart's order), checks, then saves."""
    with transaction.atomic():
        products = {}
        for item in items:
            products[item["product"]] = Product.objects.select_for_update().get(pk=item["product"])
        for item in items:
            if products[item["product"]].stock < item["quantity"]:
                raise OutOfStock(item["product"])
        for item in items:
            product = products[item["product"]]
            product.stock -= item["quantity"]
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
