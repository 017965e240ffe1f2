"""Fixtures of the hidden checks of the orders report.

The judge seeds orders, a partner's API token and users through the
exercise's own models (committed, so the candidate's server sees them),
calls the report over HTTP, and builds every expected answer here, in
Python, from what it seeded: never by running the candidate's SQL.

Injection is judged by what PostgreSQL ran for the app's role, not by
timing. For each parameter the judge first sends a harmless value (the
"twin") and records the normalised statements it caused; pg_stat_statements
replaces every constant with $n, so a bound or correctly quoted value
leaves the same statement text whatever it holds. A payload that turns
into SQL (a UNION, an OR, a pg_sleep, a second statement) shows up as a
statement the twin never ran; a payload that breaks the SQL shows up as a
failed statement in the server's log. Either fails the check, whatever
the response looked like.
"""

import datetime
import re
import string
import urllib.parse

import pytest
from djgrade_judge import app_queries, first_difference, freeze_schema

from reports.models import ApiToken, Order

URL = "/api/reports/orders/"
SORTS = ("placed_on", "total_cents", "customer_name", "reference")
DIRECTIONS = ("asc", "desc")
TEXT_PARAMS = ("customer", "status")
DATE_PARAMS = ("placed_from", "placed_to")

# Customers whose names a hand-built SQL string gets wrong: quotes, LIKE's
# wildcards, backslashes, non-ASCII text, SQL keywords and a name that is
# itself an injection. Plain names make up the rest.
TRICKY_CUSTOMERS = [
    "O'Brien & Sons", "100% Organic", "1000 Widgets", "A_B Supplies", "AxB Supplies",
    "C:\\Temp Traders", "C:Temp Traders", "Zoë Ünal GmbH", "東京商事", "Łódź Logistics",
    'Émile "Le Chef" Traiteur', "Union Street Bakery", "Robert'); DROP TABLE students;-- Ltd",
    "It's \\'quoted\\'",
]
PLAIN_CUSTOMERS = [
    "Acme Traders", "Northwind Foods", "Blue Harbor Coffee", "Grant Hardware", "Meadow Farms",
    "Pixel Forge", "Harbor Freight Lines", "Summit Outdoor",
]
PLAIN_STATUSES = ["paid", "pending", "refunded", "on hold"]
TRICKY_STATUSES = ["can't ship", "50% refunded", "held\\review"]


# Django names its server-side cursors (QuerySet.iterator()) per request:
# the same query under another cursor name is the same statement.
_CURSOR_NAME = re.compile(r'"?_django_curs_\d+_(?:a)?sync_\d+"?')

# A text filter's harmless values: a plain word and one with LIKE's
# wildcards and a backslash, so that SQL whose shape depends on whether a
# value needs escaping (an ESCAPE clause added only then) is the twin's too.
BENIGN = {"customer": ("Traders", "a_b%c\\d"), "status": ("paid", "a_b%c\\d"), "min_total": ("100",),
          "placed_from": ("2023-01-01",), "placed_to": ("2024-12-31",), "sort": ("total_cents",),
          "direction": ("asc",)}


def normalised(text):
    """normalised is a statement's text with Django's per-request cursor names left out."""
    return _CURSOR_NAME.sub('"_django_curs"', text)


def _token(rng, n=24):
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(n))


@pytest.fixture(scope="session", autouse=True)
def served(candidate, django_db_blocker):
    """The candidate's project, migrated on the judge's database and served by gunicorn."""
    result = candidate.manage("migrate", "--noinput")
    assert result.ok, "migrate failed in the candidate's project:\n%s" % result.output
    with django_db_blocker.unblock():
        freeze_schema()
    candidate.serve()
    return candidate


class Shop:
    """The orders of one check, a secret in another table, and the report expected for any parameters."""

    def __init__(self, rng, make_user):
        self.rng = rng
        self.user = make_user("analyst%04d" % rng.randrange(10000))
        # Secrets of another table: a partner's API key and a password hash.
        self.secret = "tok_" + _token(rng)
        ApiToken.objects.create(label="partner " + _token(rng, 6), key=self.secret)
        self.other = make_user("admin%04d" % rng.randrange(10000), is_staff=True, is_superuser=True)
        self.other.refresh_from_db()
        self.secrets = [self.secret, self.other.password, self.other.password.split("$")[-1]]
        self.orders = []
        base = datetime.date(2023, 1, 1)
        dates = [base + datetime.timedelta(days=rng.randrange(0, 700)) for _ in range(14)]
        totals = [rng.randrange(100, 90000) for _ in range(20)]
        customers = TRICKY_CUSTOMERS + PLAIN_CUSTOMERS + rng.sample(PLAIN_CUSTOMERS, 4)
        rng.shuffle(customers)
        refs = rng.sample(range(10000, 99999), len(customers) + 8)
        for i, customer in enumerate(customers + rng.sample(PLAIN_CUSTOMERS, 8)):
            status = rng.choice(PLAIN_STATUSES) if i % 5 else rng.choice(TRICKY_STATUSES)
            # Dates and totals repeat, so the id tie-break matters for every sort.
            o = Order.objects.create(
                reference="ORD-%05d" % refs[i], customer_name=customer, status=status,
                total_cents=rng.choice(totals), placed_on=rng.choice(dates))
            self.orders.append(o)
        # Some orders share a customer name too.
        # Only dates some order has, so that every bound a check picks decides a row.
        self.dates = sorted({o.placed_on for o in self.orders})

    # Expected answers.

    def expected(self, params):
        """The exact body of the report for params (a dict of strings), built from the seeded orders."""
        rows = list(self.orders)
        if params.get("customer"):
            rows = [o for o in rows if params["customer"] in o.customer_name]
        if params.get("status"):
            rows = [o for o in rows if o.status == params["status"]]
        if params.get("min_total"):
            rows = [o for o in rows if o.total_cents >= int(params["min_total"])]
        if params.get("placed_from"):
            rows = [o for o in rows if o.placed_on >= datetime.date.fromisoformat(params["placed_from"])]
        if params.get("placed_to"):
            rows = [o for o in rows if o.placed_on <= datetime.date.fromisoformat(params["placed_to"])]
        sort = params.get("sort") or "placed_on"
        direction = params.get("direction") or "desc"
        rows.sort(key=lambda o: o.id)
        rows.sort(key=lambda o: getattr(o, sort), reverse=direction == "desc")
        return {
            "count": len(rows),
            "results": [
                {"id": o.id, "reference": o.reference, "customer_name": o.customer_name, "status": o.status,
                 "total_cents": o.total_cents, "placed_on": o.placed_on.isoformat()}
                for o in rows
            ],
        }

    # Reading the database.

    @staticmethod
    def state():
        """Every row the app could change, read fresh."""
        from django.contrib.auth import get_user_model

        users = list(get_user_model().objects.order_by("pk").values_list(
            "pk", "username", "password", "is_staff", "is_superuser", "is_active"))
        orders = list(Order.objects.order_by("pk").values_list())
        tokens = list(ApiToken.objects.order_by("pk").values_list())
        return orders, tokens, users

    # Talking to the app.

    def get(self, params, user=True):
        url = URL + ("?" + urllib.parse.urlencode(params) if params else "")
        return url, (self.app.get(url, user=self.user) if user else self.app.get(url))

    def report(self, params):
        """The app's body for a legitimate report, which must be exactly the expected one."""
        __tracebackhide__ = True
        url, resp = self.get(params)
        assert resp.status == 200, "GET %s answered %d, expected 200: %r" % (url, resp.status, resp.body[:300])
        body = resp.json()
        want = self.expected(params)
        if body != want:
            got = [r.get("reference") for r in body.get("results", [])] if isinstance(body, dict) else body
            raise AssertionError(
                "GET %s (parameters %r) answered the wrong report: %s\nexpected %d orders %r\ngot      %r"
                % (url, params, first_difference(body, want, "the report"), want["count"],
                   [r["reference"] for r in want["results"]], got))
        return body

    def refused(self, params):
        """refused: a 400, decided by the app before the database sees the value (no statement fails)."""
        __tracebackhide__ = True
        url, resp, q = self.statements(params)
        assert resp.status == 400, "GET %s (parameters %r) answered %d, expected 400: %r" % (
            url, params, resp.status, resp.body[:300])
        self.no_secret(url, resp)
        failed = [text for _, text in q.statements if text.startswith("(")]
        assert not failed, (
            "GET %s (parameters %r) answered 400, but only after the database failed on the value: the "
            "report must refuse a parameter it cannot take before it reaches the database:\n%s"
            % (url, params, q.describe()))
        return resp

    def no_secret(self, url, resp):
        __tracebackhide__ = True
        for secret in self.secrets:
            assert secret.encode() not in resp.body, (
                "GET %s answered %d with data of another table (an API key or a password hash) in its body"
                % (url, resp.status))

    def statements(self, params):
        """The normalised statements one request ran for the app's role, and its response."""
        with app_queries() as q:
            url, resp = self.get(params)
        return url, resp, q

    def attack(self, name, payload, twins, expect):
        """One payload in one parameter: answered as expected, no other table in the body,
        no statement the harmless twin did not run, none failed, nothing changed."""
        __tracebackhide__ = True
        benign = BENIGN[name][0]
        if name not in twins:
            twins[name] = set()
            for i, value in enumerate(BENIGN[name]):
                _, resp, q = self.statements({name: value})
                # The plain value must be reported; the one with wildcards
                # may be refused (refusing is safe, and costs elsewhere).
                assert resp.status == 200 or (i > 0 and resp.status == 400), (
                    "GET with %s=%r answered %d, expected 200" % (name, value, resp.status))
                assert not any(text.startswith("(") for _, text in q.statements), (
                    "GET with the harmless %s=%r made a statement fail in the database:\n%s" % (name, value, q.describe()))
                twins[name] |= {normalised(text) for _, text in q.statements}
        before = self.state()
        params = {name: payload}
        url, resp, q = self.statements(params)
        self.no_secret(url, resp)
        extra = [(n, text) for n, text in q.statements if normalised(text) not in twins[name]]
        assert not extra, (
            "%s=%r made the database run SQL that the harmless value %r did not: the value became part of "
            "the SQL.\nstatements the harmless value did not cause:\n%s\nstatements of the harmless value:\n%s"
            % (name, payload, benign, "\n".join("%d x %s" % (n, " ".join(t.split())[:300]) for n, t in extra),
               "\n".join(" ".join(t.split())[:300] for t in sorted(twins[name]))))
        if expect == 400:
            assert resp.status == 400, "GET %s (%s=%r) answered %d, expected 400: %r" % (
                url, name, payload, resp.status, resp.body[:300])
        else:
            # Text filters take any text: the right answer is the orders that
            # match it literally (a refusal is safe, and costs elsewhere).
            assert resp.status in (200, 400), (
                "GET %s (%s=%r) answered %d, expected 200 with the orders matching it literally: %r"
                % (url, name, payload, resp.status, resp.body[:300]))
            if resp.status == 200:
                want = self.expected(params)
                got = resp.json()
                assert got == want, (
                    "GET %s (%s=%r) answered %r orders, expected the %d matching it literally %r"
                    % (url, name, payload, got.get("count") if isinstance(got, dict) else got, want["count"],
                       [r["reference"] for r in want["results"]]))
        after = self.state()
        assert after == before, "GET %s (%s=%r) changed the database" % (url, name, payload)


@pytest.fixture
def shop(app, make_user, rng):
    s = Shop(rng, make_user)
    s.app = app
    return s
