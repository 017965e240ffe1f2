"""Tasks the worker fleet runs.

This module is released with the workers: the task's name and its argument
(the order's id) are the contract between the API and the warehouse.
"""

import logging

from celery import shared_task

from .models import Order

log = logging.getLogger(__name__)


@shared_task(name="orders.tasks.process_order")
def process_order(order_id):
    """Hands a placed order to the warehouse: every line, with its quantity."""
    order = Order.objects.prefetch_related("lines__product").get(pk=order_id)
    for line in order.lines.all():
        log.info("order %s: pick %d x %s", order.pk, line.quantity, line.product.sku)
    return order.pk
