"""Public tests of GET /api/tickets/: some pass on the starter, the ones about the task fail."""

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tickets.models import Ticket

URL = "/api/tickets/"


def walk(client, url=URL, on_page=None):
    """walk follows `next` from url and returns every ticket id seen, in order."""
    ids = []
    for _ in range(50):
        r = client.get(url)
        assert r.status_code == 200, (url, r.status_code, r.content[:200])
        body = r.json()
        ids += [t["id"] for t in body["results"]]
        if on_page:
            on_page(body)
        if not body["next"]:
            return ids
        url = body["next"]
    raise AssertionError("more than 50 pages")


def test_first_page_format(client_for, agent, add_tickets):
    made = add_tickets(12)
    body = client_for(agent).get(URL).json()
    assert set(body) >= {"next", "results"}
    assert len(body["results"]) == 10
    newest = made[-1]
    assert body["results"][0] == {
        "id": newest.id, "title": newest.title, "status": newest.status, "priority": newest.priority,
        "created_at": newest.created_at.isoformat().replace("+00:00", "Z"),
        "assignee": newest.assignee.username if newest.assignee else None,
    }
    assert body["next"]


def test_filter_by_status(client_for, agent, add_tickets):
    made = add_tickets(9)
    ids = walk(client_for(agent), URL + "?status=pending")
    assert ids == [t.id for t in reversed(made) if t.status == "pending"]


def test_walk_in_order(client_for, agent, add_tickets):
    made = add_tickets(23)
    assert walk(client_for(agent), URL + "?ordering=created_at") == [t.id for t in made]


def test_walk_stable_under_inserts(client_for, agent, add_tickets):
    made = add_tickets(25)

    def new_ticket_on_top(body):
        add_tickets(1)

    ids = walk(client_for(agent), URL, on_page=new_ticket_on_top)
    assert len(ids) == len(set(ids)), "a ticket was listed twice"
    assert set(t.id for t in made) <= set(ids), "a ticket was skipped"


def test_unknown_filter_is_400(client_for, agent, add_tickets):
    add_tickets(3)
    assert client_for(agent).get(URL + "?internal_rank=3").status_code == 400


def test_ordering_by_hidden_field_is_400(client_for, agent, add_tickets):
    add_tickets(3)
    assert client_for(agent).get(URL + "?ordering=internal_rank").status_code == 400


def test_user_throttled_after_20(client_for, agent, add_tickets):
    add_tickets(2)
    client = client_for(agent)
    for i in range(20):
        assert client.get(URL).status_code == 200, "request %d" % (i + 1)
    r = client.get(URL)
    assert r.status_code == 429
    assert int(r["Retry-After"]) > 0


def test_anonymous_throttled_per_address(client_for, add_tickets):
    add_tickets(2)
    first = client_for(addr="10.0.0.1")
    for _ in range(5):
        assert first.get(URL).status_code == 200
    assert first.get(URL).status_code == 429
    assert client_for(addr="10.0.0.2").get(URL).status_code == 200


def test_query_count_does_not_grow(client_for, agent, add_tickets):
    add_tickets(2)
    client = client_for(agent)
    client.get(URL)  # the throttle's first write for this user
    with CaptureQueriesContext(connection) as small:
        assert client.get(URL).status_code == 200
    add_tickets(20)
    with CaptureQueriesContext(connection) as large:
        assert client.get(URL).status_code == 200
    assert len(large) == len(small), [q["sql"] for q in large.captured_queries]
