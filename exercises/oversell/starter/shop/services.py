"""Checkout: turning a cart into an order."""

from django.db import transaction

from .models import Order, OrderLine, Product


class OutOfStock(Exception):
    """OutOfStock: the cart asks for more units of a product than are left."""

    def __init__(self, product_id):
        super().__init__(product_id)
        self.product_id = product_id


def place_order(customer, items):
    """place_order sells the cart's items to customer, all or nothing, and returns the Order.

    items is a validated cart: [{"product": <id>, "quantity": <n>}, ...].
    Raises OutOfStock if any product has fewer units left than the cart asks for.
    """
    products = Product.objects.in_bulk([item["product"] for item in items])

    for item in items:
        product = products[item["product"]]
        if product.stock < item["quantity"]:
            raise OutOfStock(product.pk)

    with transaction.atomic():
        order = Order.objects.create(
            customer=customer,
            total_cents=sum(products[item["product"]].price_cents * item["quantity"] for item in items),
        )
        for item in items:
            product = products[item["product"]]
            product.stock -= item["quantity"]
            product.save(update_fields=["stock"])
            OrderLine.objects.create(
                order=order, product=product, quantity=item["quantity"], price_cents=product.price_cents
            )
    return order
