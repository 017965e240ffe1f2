"""Placing orders: the rows, the stock, and the warehouse's task."""

from functools import partial

from django.db import transaction

from .models import Batch, Order, OrderLine, Product
from .tasks import process_order

import threading


def _resend_later(order_id):
    t = threading.Timer(0.2, process_order.delay, args=(order_id,))
    t.daemon = True
    t.start()


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
        # The warehouse hears of the order once it is committed: a worker
        # must find it, and an order rolled back (here or in an enclosing
        # transaction's savepoint) must never reach it.
        transaction.on_commit(partial(process_order.delay, order.id))
        # WRONG on purpose: a "safety net" that sends every order a second time
        # 0.2 s later (the review sent it 45 s later, beyond the whole run: see rubric.md).
        transaction.on_commit(partial(_resend_later, order.id))
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
