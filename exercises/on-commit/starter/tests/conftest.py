from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.db import connection
from rest_framework.test import APIClient

from orders.models import Order, Product
from orders.tasks import process_order


@pytest.fixture
def customer(transactional_db):
    return User.objects.create_user("customer", password="not-used")


@pytest.fixture
def api(customer):
    client = APIClient()
    client.force_authenticate(user=customer)
    return client


@pytest.fixture
def products(transactional_db):
    """Three products; the lamp has two items left."""
    return {
        p.sku: p
        for p in [
            Product.objects.create(sku="MUG-1", name="Mug", price_cents=850, stock=100),
            Product.objects.create(sku="TEA-7", name="Tea, 250 g", price_cents=1290, stock=100),
            Product.objects.create(sku="LAMP-2", name="Desk lamp", price_cents=4500, stock=2),
        ]
    }


class Sent:
    """What the API handed to Celery, and what the database looked like at that moment."""

    def __init__(self):
        self.calls = []

    def __call__(self, args=None, kwargs=None, **options):
        args = tuple(args or ())
        kwargs = dict(kwargs or {})
        order_id = args[0] if args else kwargs.get("order_id")
        self.calls.append(
            {
                "order_id": order_id,
                "args": args,
                "kwargs": kwargs,
                "in_transaction": connection.in_atomic_block,
                "order_exists": Order.objects.filter(pk=order_id).exists(),
            }
        )

    @property
    def order_ids(self):
        return [c["order_id"] for c in self.calls]


@pytest.fixture
def sent():
    """Records every process_order.delay/apply_async instead of talking to a broker."""
    recorder = Sent()
    with mock.patch.object(process_order, "apply_async", side_effect=recorder):
        yield recorder
