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

    The cart's products are locked (SELECT ... FOR UPDATE, in id order so
    that every checkout takes its locks in the same order) for the whole
    transaction: between the check and the save no other checkout can
    touch them.
    """
    with transaction.atomic():
        locked = Product.objects.select_for_update().filter(pk__in=[item["product"] for item in items]).order_by("pk")
        products = {product.pk: product for product in locked}
        for item in items:
            if products[item["product"]].stock < item["quantity"]:
                raise OutOfStock(item["product"])
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
