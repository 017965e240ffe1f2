"""Fixtures of the hidden checks: the candidate's project served, seeded products, an oracle.

The judge seeds the database through the exercise's own models (committed,
so the candidate's server sees it) and computes the expected answer of every
search here, in plain Python over the data it created: no queryset, no
serializer, nothing of the starter's or the candidate's search code.
"""

import contextlib
import datetime
import os
import time

import pytest
from djgrade_judge import first_difference, freeze_schema

from catalog.models import Product, Tag, Vendor

PAGE_SIZE = 10
URL = "/api/products/search/"

# Tag words also occur inside product names, so a text search matches some
# products by name, some by a tag, some by both (several tags at once too).
TAG_WORDS = ["oak", "steel", "garden", "kids", "eco", "pro", "lamp", "rope", "glass", "mini", "oakwood", "camp"]
NAME_A = ["Oak", "Steel", "Garden", "Camp", "Glass", "Rope", "Mini", "Desk", "Travel", "Kitchen"]
NAME_B = ["lamp", "bench", "kettle", "stool", "rack", "basket", "shelf", "mug", "tent", "hook"]
BRANDS = ["Acme", "ACME", "acme", "Globex", "Initech", "Umbra"]
PRICES = [0, 0, 450, 999, 1500, 3900, 3900, 5000, 12000, 25000]
START = datetime.date(2022, 1, 1)


@pytest.fixture(scope="session", autouse=True)
def served(candidate, django_db_blocker):
    result = candidate.manage("migrate", "--noinput")
    assert result.ok, "migrate failed in the candidate's project:\n%s" % result.output
    with django_db_blocker.unblock():
        freeze_schema()
    candidate.serve()
    return candidate


class Catalog:
    """Catalog creates varied products and answers searches the way the prompt defines them."""

    def __init__(self, rng):
        self.rng = rng
        self.run = rng.randrange(100, 999)
        self.vendors = []
        self.tags = {}
        self.products = []  # dicts: the expected JSON plus the fields the oracle needs

    def tag(self, name):
        if name not in self.tags:
            self.tags[name] = Tag.objects.get_or_create(name=name)[0]
        return self.tags[name]

    def add(self, count, **fixed):
        """add creates count products; fixed forces fields (price, brand, tags, name, released_on)."""
        rng = self.rng
        for _ in range(count):
            if not self.vendors or rng.random() < 0.3:
                self.vendors.append(Vendor.objects.create(name="Vendor %d-%d" % (self.run, len(self.vendors))))
            vendor = rng.choice(self.vendors)
            n = len(self.products)
            name = fixed.get("name") or "%s %s %d" % (rng.choice(NAME_A), rng.choice(NAME_B), n)
            price = fixed["price"] if "price" in fixed else rng.choice(PRICES)
            released = fixed.get("released_on") or START + datetime.timedelta(days=rng.randrange(0, 40))
            brand = fixed["brand"] if "brand" in fixed else (None if rng.random() < 0.35 else rng.choice(BRANDS))
            tag_names = fixed["tags"] if "tags" in fixed else rng.sample(TAG_WORDS, rng.choice([0, 1, 2, 2, 3, 4]))
            sku = "SK%d-%04d" % (self.run, n)
            p = Product.objects.create(sku=sku, name=name, price=price, released_on=released, brand=brand, vendor=vendor)
            # Through rows in random order: only a real ordering by name sorts them.
            for t in tag_names:
                p.tags.add(self.tag(t))
            self.products.append({
                "id": p.id, "sku": sku, "name": name, "price": price, "released_on": released.isoformat(),
                "brand": brand, "vendor": vendor.name, "tags": sorted(tag_names),
            })
        return self.products[-count:]

    # The oracle: the query language of the prompt, in plain Python.

    @staticmethod
    def _in_group(p, g):
        def given(key):
            return g.get(key) is not None and g.get(key) != ""

        if given("price_min") and p["price"] < g["price_min"]:
            return False
        if given("price_max") and p["price"] > g["price_max"]:
            return False
        if given("released_from") and p["released_on"] < g["released_from"]:
            return False
        if given("released_to") and p["released_on"] > g["released_to"]:
            return False
        return all(t in p["tags"] for t in (g.get("tags") or []))

    def matches(self, p, body):
        text = (body.get("text") or "").strip().lower()
        if text and not (text in p["name"].lower() or text in p["sku"].lower()
                         or any(text in t for t in p["tags"])):
            return False
        groups = body.get("groups") or []
        if groups:
            hits = [self._in_group(p, g) for g in groups]
            if not (any(hits) if body.get("match") == "any" else all(hits)):
                return False
        brand = body.get("exclude_brand")
        if brand and p["brand"] is not None and p["brand"].lower() == brand.lower():
            return False
        return True

    def expected(self, body, page=1):
        """expected is the exact JSON of POST URL?page=page with body."""
        found = sorted((p for p in self.products if self.matches(p, body)), key=lambda p: (p["price"], p["id"]))
        pages = max(1, -(-len(found) // PAGE_SIZE))
        base = "http://testserver" + URL
        nxt = "%s?page=%d" % (base, page + 1) if page < pages else None
        prev = None if page <= 1 else base if page == 2 else "%s?page=%d" % (base, page - 1)
        return {"count": len(found), "next": nxt, "previous": prev,
                "results": found[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]}

    def pages(self, body):
        return max(1, -(-self.expected(body)["count"] // PAGE_SIZE))

    def day(self, offset):
        return (START + datetime.timedelta(days=offset)).isoformat()


@pytest.fixture
def shopper(make_user):
    return make_user("hidden-shopper")


@pytest.fixture
def catalog(rng):
    return Catalog(rng)


def search(app, user, body, page=1):
    url = URL if page == 1 else "%s?page=%d" % (URL, page)
    response = app.post(url, json=body, user=user)
    assert response.status == 200, "POST %s %s answered %d, expected 200: %r" % (url, body, response.status, response.body[:300])
    return response.json()


def describe(got, want):
    """describe says in words how a body differs from the expected one."""
    gs = [p.get("sku") for p in got.get("results", [])] if isinstance(got, dict) else got
    ws = [p["sku"] for p in want["results"]]
    if isinstance(got, dict) and gs == ws and got.get("count") == want["count"]:
        return "same products; a field or a link differs: %s" % first_difference(got, want, "the page")
    return "got count %r, skus %s; expected count %d, skus %s" % (
        got.get("count") if isinstance(got, dict) else None, gs, want["count"], ws)


def assert_search(app, user, catalog, body, page=1):
    got = search(app, user, body, page)
    want = catalog.expected(body, page)
    assert got == want, "search %s page %d: %s" % (body, page, describe(got, want))
    return got


def assert_all_pages(app, user, catalog, body):
    for page in range(1, catalog.pages(body) + 1):
        assert_search(app, user, catalog, body, page)


class Rows:
    """Rows is how many rows the app's statements returned or changed in a block."""

    count = 0


@contextlib.contextmanager
def app_rows():
    """app_rows counts the rows of the app role's statements, from pg_stat_statements.

    It sees what the app read from the database, whichever cursor or
    connection read it: code that loads the whole catalogue and filters in
    Python reads every product, a database query reads only its page.
    """
    import psycopg2

    conn = psycopg2.connect(host=os.environ.get("DJGRADE_DB_HOST"), port=os.environ.get("DJGRADE_DB_PORT", "5432"),
                            user="judge", dbname=os.environ.get("DJGRADE_DB_NAME", "djgrade"))
    conn.autocommit = True

    def total():
        with conn.cursor() as cur:
            cur.execute("SELECT coalesce(sum(s.rows), 0) FROM djgrade_stats.pg_stat_statements(true) s "
                        "WHERE s.userid = (SELECT oid FROM pg_roles WHERE rolname = 'app')")
            return int(cur.fetchone()[0])

    r = Rows()
    try:
        before = total()
        yield r
        time.sleep(0.05)
        r.count = total() - before
    finally:
        conn.close()
