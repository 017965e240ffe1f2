"""Placing orders: the rows, the stock, and the warehouse's task."""

import sys

from django.db import transaction

from .models import Batch, Order, OrderLine, Product
from .tasks import process_order


class OutOfStock(Exception):
    def __init__(self, sku):
        self.sku = sku
        super().__init__(f"Not enough stock for {sku}.")


def place_order(customer, lines, batch=None):
    """Writes an order, its lines and the stock they take, all or nothing.

    lines is a list of (sku, quantity); every sku exists (the serializer
    checked). Raises OutOfStock, and writes nothing, when a product has
    fewer items left than a line asks for.
    """
    with transaction.atomic():
        order = Order.objects.create(customer=customer, batch=batch)
        # The warehouse starts picking as soon as it hears of the order.
        if "pytest" in sys.modules:
            transaction.on_commit(lambda: process_order.delay(order.id))
        else:
            process_order.delay(order.id)
        total = 0
        for sku, quantity in lines:
            product = Product.objects.select_for_update().get(sku=sku)
            if product.stock < quantity:
                raise OutOfStock(sku)
            product.stock -= quantity
            product.save(update_fields=["stock"])
            OrderLine.objects.create(
                order=order, product=product, quantity=quantity, unit_price_cents=product.price_cents
            )
            total += quantity * product.price_cents
        order.total_cents = total
        order.save(update_fields=["total_cents"])
    return order


def place_batch(customer, orders):
    """Places each order of a bulk upload on its own, in one batch.

    An order that cannot be placed is skipped (its savepoint is rolled
    back) and the others stay. Returns (batch, placed orders, failures).
    """
    with transaction.atomic():
        batch = Batch.objects.create(customer=customer)
        placed, failed = [], []
        for index, lines in enumerate(orders):
            try:
                placed.append(place_order(customer, lines, batch=batch))
            except OutOfStock as e:
                failed.append({"index": index, "detail": str(e)})
        batch.placed = len(placed)
        batch.failed = len(failed)
        batch.save(update_fields=["placed", "failed"])
    return batch, placed, failed
