"""Fixtures of the hidden checks: the candidate's project served, seeded tickets, an oracle.

The judge seeds tickets through the exercise's own models (committed, so the
candidate's server sees them) and computes every expected page here, in plain
Python over the data it created. Pages are walked by following `next` as a
client would; the cursor is never read or built by the judge, except one
forged in DRF's format, which any cursor scheme must refuse.

Throttle budgets (settings: user 20/hour, anon 5/hour) are per signed-in user
and per connection address; every check uses fresh users and fresh loopback
addresses (App(..., source=...)), and the throttle cache table is emptied
before every check, so no check spends another's budget. An hour-long window
cannot run out while a check runs, however slow the machine.
"""

import datetime
import urllib.parse

import pytest
from djgrade_judge import APP_PORT, App, first_difference, freeze_schema

from tickets.models import Ticket

URL = "/api/tickets/"
PAGE_SIZE = 10
USER_RATE = 20
ANON_RATE = 5
CACHE_TABLE = "throttle_cache"
START = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
STATUSES = ["open", "pending", "closed"]
WORDS = ["Printer", "Login", "VPN", "Invoice", "Laptop", "Email", "Badge", "Wifi", "Monitor", "Refund"]
# ordering -> (sort key, descending)
ORDERINGS = {"created_at": ("created_at", False), "-created_at": ("created_at", True),
             "id": ("id", False), "-id": ("id", True)}


@pytest.fixture(scope="session", autouse=True)
def served(candidate, django_db_blocker):
    result = candidate.manage("migrate", "--noinput")
    assert result.ok, "migrate failed in the candidate's project:\n%s" % result.output
    with django_db_blocker.unblock():
        freeze_schema()
    candidate.serve()
    return candidate


@pytest.fixture(autouse=True)
def empty_throttle_cache(transactional_db):
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute('DELETE FROM "%s"' % CACHE_TABLE)


def iso(dt):
    return dt.isoformat().replace("+00:00", "Z")


class Desk:
    """Desk creates tickets with unique, shuffled creation times and knows every list's answer."""

    def __init__(self, rng, make_user):
        self.rng = rng
        self.make_user = make_user
        self.agents = [make_user("agent-%d-%d" % (i, rng.randrange(1 << 20))) for i in range(3)]
        self.tickets = {}  # id -> expected JSON plus "internal_rank"
        self.times = set()
        self.n_users = 0

    def user(self):
        """user is a fresh signed-in client identity, with its own throttle budget."""
        self.n_users += 1
        return self.make_user("reader-%d-%d" % (self.n_users, self.rng.randrange(1 << 20)))

    def _time(self, lo=0, hi=10 ** 7):
        while True:
            t = START + datetime.timedelta(seconds=self.rng.randrange(lo, hi), microseconds=self.rng.randrange(1, 10 ** 6))
            if t not in self.times:
                self.times.add(t)
                return t

    def add(self, n=1, at=None, **fixed):
        """add creates n tickets (creation times random, or at=callable giving one), returns their expected JSON."""
        made = []
        for _ in range(n):
            created = at() if at else self._time()
            self.times.add(created)
            values = {
                "title": "%s issue %d" % (self.rng.choice(WORDS), len(self.tickets)),
                "status": self.rng.choice(STATUSES), "priority": self.rng.randint(1, 4),
                "assignee": self.rng.choice(self.agents + [None]), "internal_rank": self.rng.randrange(1000),
            }
            values.update(fixed)
            t = Ticket.objects.create(created_at=created, **values)
            row = {"id": t.id, "title": t.title, "status": t.status, "priority": t.priority, "created_at": iso(created),
                   "assignee": values["assignee"].username if values["assignee"] else None}
            self.tickets[t.id] = dict(row, _created=created, _rank=values["internal_rank"])
            made.append(row)
        return made

    def newest(self):
        return max(t["_created"] for t in self.tickets.values())

    def oldest(self):
        return min(t["_created"] for t in self.tickets.values())

    def public(self, t):
        return {k: v for k, v in t.items() if not k.startswith("_")}

    def expected(self, ordering="-created_at", **filters):
        key, desc = ORDERINGS[ordering]
        rows = [t for t in self.tickets.values() if all(t[k] == v for k, v in filters.items())]
        rows.sort(key=lambda t: t["_created"] if key == "created_at" else t["id"], reverse=desc)
        return [self.public(t) for t in rows]


@pytest.fixture
def desk(rng, make_user):
    return Desk(rng, make_user)


def path_of(link):
    """path_of turns a `next` link (absolute or relative) into the path the judge requests."""
    parts = urllib.parse.urlsplit(link)
    return parts.path + ("?" + parts.query if parts.query else "")


def list_url(params):
    return URL + ("?" + urllib.parse.urlencode(params) if params else "")


def fetch(app, url, user):
    r = app.get(url, user=user)
    assert r.status == 200, "GET %s answered %d, expected 200: %r" % (url, r.status, r.body[:300])
    body = r.json()
    assert isinstance(body, dict) and isinstance(body.get("results"), list) and "next" in body, (
        "GET %s answered %r, expected an object with results and next" % (url, r.body[:300]))
    return body


def walk(app, user, params, between=None, max_pages=12):
    """walk follows `next` from the list with params; between(page_number) runs after each page but the last."""
    url = list_url(params)
    pages = []
    for n in range(1, max_pages + 1):
        body = fetch(app, url, user)
        pages.append(body["results"])
        if body["next"] is None:
            return pages
        assert isinstance(body["next"], str) and body["next"], "page %d of %s: next is %r, expected a URL or null" % (
            n, params, body["next"])
        if between:
            between(n)
        url = path_of(body["next"])
    raise AssertionError("the list %s still had a next page after %d pages (the judge expected at most %d)"
                         % (params, max_pages, max_pages - 1))


def assert_walk(app, user, desk, params):
    """assert_walk walks every page and compares them with the oracle's pages of PAGE_SIZE."""
    want = desk.expected(**params)
    pages = walk(app, user, params)
    want_pages = [want[i:i + PAGE_SIZE] for i in range(0, len(want), PAGE_SIZE)] or [[]]
    assert len(pages) == len(want_pages) or pages == want_pages, (
        "the list %s came in %d pages of %s tickets, expected %d pages of %s"
        % (params, len(pages), [len(p) for p in pages], len(want_pages), [len(p) for p in want_pages]))
    for i, (got, exp) in enumerate(zip(pages, want_pages)):
        assert got == exp, first_difference(got, exp, "the list %s, page %d" % (params, i + 1))


def elsewhere(address):
    """elsewhere is a client of the app whose requests come from address (a loopback address)."""
    return App(APP_PORT, source=address)


class Addresses:
    """Addresses hands out loopback addresses no other check of this run uses."""

    def __init__(self, rng):
        self.rng = rng
        self.used = set()

    def __call__(self):
        while True:
            a = "127.%d.%d.%d" % (self.rng.randrange(1, 255), self.rng.randrange(0, 256), self.rng.randrange(2, 255))
            if a not in self.used:
                self.used.add(a)
                return a


@pytest.fixture
def addresses(rng):
    return Addresses(rng)
