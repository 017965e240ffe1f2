import datetime

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from catalog.models import Product, Tag, Vendor


@pytest.fixture
def api_client(db):
    user = User.objects.create_user("shopper", password="not-used")
    client = APIClient()
    # force_authenticate hands the user to the view directly: no query per
    # request, so query counts measure the endpoint alone.
    client.force_authenticate(user=user)
    return client


@pytest.fixture
def catalog(db):
    """Six products: two brands, one unbranded, one free, tags shared between them."""
    north = Vendor.objects.create(name="North Supply")
    south = Vendor.objects.create(name="South Goods")
    tags = {n: Tag.objects.create(name=n) for n in ["outdoor", "wood", "steel", "kids"]}

    def make(sku, name, price, day, brand, vendor, tag_names):
        p = Product.objects.create(sku=sku, name=name, price=price, released_on=datetime.date(2023, 1, day),
                                   brand=brand, vendor=vendor)
        p.tags.set([tags[t] for t in tag_names])
        return p

    return {
        "bench": make("PUB-001", "Garden bench", 12000, 5, "Acme", north, ["outdoor", "wood"]),
        "spoon": make("PUB-002", "Wooden spoon", 450, 9, None, south, ["wood", "kids"]),
        "kettle": make("PUB-003", "Steel kettle", 3900, 12, "Globex", north, ["steel"]),
        "sticker": make("PUB-004", "Sticker sheet", 0, 20, "acme", south, ["kids"]),
        "grill": make("PUB-005", "Outdoor grill", 25000, 2, "Globex", north, ["outdoor", "steel"]),
        "stool": make("PUB-006", "Step stool", 3900, 28, None, south, ["wood", "kids"]),
    }


@pytest.fixture
def add_products(db):
    """add_products(count) adds count more products, each with its own vendor and two tags."""
    made = []

    def add(count):
        for _ in range(count):
            i = len(made)
            vendor = Vendor.objects.create(name=f"Vendor {i}")
            p = Product.objects.create(sku=f"EXTRA-{i:03d}", name=f"Extra item {i}", price=100 + i,
                                       released_on=datetime.date(2023, 2, 1 + i % 28), brand=None, vendor=vendor)
            p.tags.set([Tag.objects.get_or_create(name=f"extra-{i % 3}")[0], Tag.objects.get_or_create(name="bulk")[0]])
            made.append(p)
        return made

    return add
