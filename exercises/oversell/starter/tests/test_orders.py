"""Public tests of the checkout. Run them with: python3 -m pytest

They run on SQLite in one process, so they cannot show what concurrent
buyers do to the stock; graded runs use PostgreSQL and a multi-worker server.
"""

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from rest_framework.test import APIClient

from shop.models import Order, OrderLine, Product


@pytest.fixture
def buyer(db):
    return User.objects.create_user("alice", password="not-used")


@pytest.fixture
def client(buyer):
    client = APIClient()
    client.force_authenticate(user=buyer)
    return client


@pytest.fixture
def shelf(db):
    return {
        "mug": Product.objects.create(name="Blue mug", price_cents=1250, stock=3),
        "tea": Product.objects.create(name="Green tea", price_cents=600, stock=10),
    }


def buy(client, *items):
    return client.post(
        "/api/orders/", {"items": [{"product": p.pk, "quantity": q} for p, q in items]}, format="json"
    )


def test_purchase_answers_the_order(client, shelf):
    response = buy(client, (shelf["tea"], 2), (shelf["mug"], 1))

    assert response.status_code == 201
    order = Order.objects.get()
    assert response.json() == {
        "id": order.pk,
        "customer": "alice",
        "items": [
            {"product": shelf["tea"].pk, "quantity": 2, "price_cents": 600},
            {"product": shelf["mug"].pk, "quantity": 1, "price_cents": 1250},
        ],
        "total_cents": 2450,
    }


def test_purchase_takes_the_stock(client, shelf):
    assert buy(client, (shelf["mug"], 3)).status_code == 201

    shelf["mug"].refresh_from_db()
    assert shelf["mug"].stock == 0
    assert OrderLine.objects.get().quantity == 3


def test_sold_out_is_a_conflict_and_changes_nothing(client, shelf):
    response = buy(client, (shelf["tea"], 1), (shelf["mug"], 4))

    assert response.status_code == 409
    assert response.json() == {"detail": "Not enough stock.", "product": shelf["mug"].pk}
    assert not Order.objects.exists()
    assert Product.objects.get(pk=shelf["tea"].pk).stock == 10
    assert Product.objects.get(pk=shelf["mug"].pk).stock == 3


def test_bad_carts_are_refused(client, shelf):
    assert buy(client).status_code == 400
    assert buy(client, (shelf["mug"], 0)).status_code == 400
    assert buy(client, (shelf["mug"], 1), (shelf["mug"], 1)).status_code == 400
    assert client.post("/api/orders/", {"items": [{"product": 999999, "quantity": 1}]}, format="json").status_code == 400
    assert not Order.objects.exists()


def test_anonymous_cannot_buy(shelf):
    assert buy(APIClient(), (shelf["mug"], 1)).status_code in (401, 403)


def test_database_refuses_negative_stock(shelf):
    with pytest.raises(IntegrityError):
        with transaction.atomic():
            Product.objects.filter(pk=shelf["mug"].pk).update(stock=-1)
