"""Public tests for the orders app. Run them with: python3 -m pytest

Some pass already; the ones about normalized_email fail until you are done.
"""

import io

import pytest
from django.core.management import call_command
from django.db import connection

from orders.models import Order

OLD_RELEASE = "0002_order_shipped_at"


def _migrate(target):
    out = io.StringIO()
    call_command("migrate", "orders", target, verbosity=0, stdout=out, stderr=out)


def _latest():
    from django.db.migrations.loader import MigrationLoader

    (leaf,) = MigrationLoader(connection).graph.leaf_nodes("orders")
    return leaf[1]


@pytest.mark.django_db
def test_orders_can_be_created():
    order = Order.objects.create(customer_email="ana@example.com", total_cents=1999)
    assert Order.objects.get(pk=order.pk).total_cents == 1999


@pytest.mark.django_db
def test_new_orders_get_normalized_email():
    order = Order.objects.create(customer_email="  Ana@Example.COM ", total_cents=1999)
    order.refresh_from_db()
    assert order.normalized_email == "ana@example.com"


@pytest.mark.django_db(transaction=True)
def test_existing_orders_are_backfilled():
    # Go back to the release running in production, write orders the way
    # its code does (without normalized_email), then roll forward.
    _migrate(OLD_RELEASE)
    try:
        with connection.cursor() as cursor:
            for email in ["  Bo@Example.com", "carl@example.com", "DANA@EXAMPLE.ORG  "]:
                cursor.execute(
                    "INSERT INTO orders_order (customer_email, total_cents, created_at) VALUES (%s, %s, %s)",
                    [email, 500, "2024-01-01T00:00:00Z"],
                )
    finally:
        _migrate(_latest())
    with connection.cursor() as cursor:
        cursor.execute("SELECT customer_email, normalized_email FROM orders_order ORDER BY id")
        rows = cursor.fetchall()
    assert [normalized for _, normalized in rows] == ["bo@example.com", "carl@example.com", "dana@example.org"]


@pytest.mark.django_db
def test_models_and_migrations_agree():
    out = io.StringIO()
    try:
        call_command("makemigrations", check=True, dry_run=True, stdout=out, stderr=out)
    except SystemExit:
        pytest.fail("makemigrations --check found model changes without a migration:\n" + out.getvalue())
