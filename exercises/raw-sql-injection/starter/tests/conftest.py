import datetime

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from reports.models import ApiToken, Order


@pytest.fixture
def api_client(db):
    user = User.objects.create_user("analyst", password="not-used")
    client = APIClient()
    client.force_authenticate(user=user)
    return client


@pytest.fixture
def orders(db):
    """Five orders, and a partner's API token that no report may show."""
    ApiToken.objects.create(label="partner", key="tok-public-tests-0001")
    made = {}
    for ref, customer, status, total, day in [
        ("ORD-001", "Acme Traders", "paid", 12500, datetime.date(2024, 3, 1)),
        ("ORD-002", "O'Brien & Sons", "paid", 4999, datetime.date(2024, 3, 5)),
        ("ORD-003", "100% Organic", "pending", 800, datetime.date(2024, 2, 20)),
        ("ORD-004", "1000 Widgets", "refunded", 15000, datetime.date(2024, 3, 5)),
        ("ORD-005", "Acme Traders", "pending", 2300, datetime.date(2024, 1, 11)),
    ]:
        made[ref] = Order.objects.create(reference=ref, customer_name=customer, status=status,
                                         total_cents=total, placed_on=day)
    return made
