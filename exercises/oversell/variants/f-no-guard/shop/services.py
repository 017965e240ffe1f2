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
    """Checks the stock, then takes it with an F() expression so that no update is lost."""
    products = Product.objects.in_bulk([item["product"] for item in items])
    for item in items:
        if products[item["product"]].stock < item["quantity"]:
            raise OutOfStock(item["product"])

    with transaction.atomic():
        # stock = stock - n is computed by the database: no lost update.
        for item in sorted(items, key=lambda item: item["product"]):
            Product.objects.filter(pk=item["product"]).update(stock=F("stock") - item["quantity"])
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
