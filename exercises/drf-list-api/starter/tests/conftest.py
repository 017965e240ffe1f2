import datetime

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from tickets.models import Ticket

START = datetime.datetime(2024, 3, 1, 9, 0, 0, 500, tzinfo=datetime.timezone.utc)


@pytest.fixture
def agent(db):
    return User.objects.create_user("agent", password="not-used")


@pytest.fixture
def client_for(db):
    """client_for(user=None, addr="10.0.0.1"): an API client, signed in as user (without a query) or anonymous."""

    def make(user=None, addr="10.0.0.1"):
        client = APIClient(REMOTE_ADDR=addr)
        if user is not None:
            client.force_authenticate(user=user)
        return client

    return make


@pytest.fixture
def add_tickets(db, agent):
    """add_tickets(n, **fields) creates n tickets, one minute apart after the last one."""

    def add(n, **fields):
        last = Ticket.objects.order_by("-created_at").first()
        at = last.created_at if last else START
        made = []
        for i in range(n):
            at = at + datetime.timedelta(minutes=1)
            values = {"title": "Ticket %d" % Ticket.objects.count(), "status": ["open", "pending", "closed"][i % 3],
                      "priority": 1 + i % 4, "created_at": at, "assignee": agent if i % 2 else None,
                      "internal_rank": (i * 7) % 11}
            values.update(fields)
            made.append(Ticket.objects.create(**values))
        return made

    return add
