"""Hidden security checks: no parameter of the report becomes SQL.

Every payload goes through Shop.attack: the answer is the literal-match
report (text filters) or 400 (everything else); no API key or password
hash is in the body; PostgreSQL ran no statement for the app that the
parameter's harmless twin did not, and none failed; the database is
unchanged. Sleeps are tiny: time-based payloads are caught by the
pg_sleep in the statements the app ran, never by the clock.
"""

import pytest

UNION_TOKENS = "UNION SELECT id, key, label, 'x', 0, CURRENT_DATE FROM reports_apitoken"
UNION_USERS = "UNION SELECT id, password, username, 'x', 0, CURRENT_DATE FROM auth_user"

# Inside a quoted string: customer LIKE '%...%' or status = '...'.
TEXT_PAYLOADS = [
    "' OR '1'='1",
    "' OR 1=1 --",
    "'OR'1'='1",
    "x' AND 1=0 " + UNION_TOKENS + " --",
    "x%' " + UNION_USERS + " --",
    "' AND (SELECT 1 FROM pg_sleep(0.01)) IS NOT NULL --",
    "' AND CASE WHEN (SELECT substr(key, 1, 1) FROM reports_apitoken LIMIT 1) > 'M' THEN true ELSE false END --",
    "'||(SELECT key FROM reports_apitoken LIMIT 1)||'",
    "\\' OR 1=1 --",
    "' OR ''='",
    "Robert'); DROP TABLE",
    "x'/**/OR/**/'a'='a",
    # No keyword, comment or semicolon at all: still SQL.
    "'||'",
    "x'||chr(37)||'",
]
NUMERIC_PAYLOADS = [
    "0 OR 1=1",
    "0 IS NOT NULL",
    "0 " + UNION_TOKENS + " --",
    "(SELECT 0 FROM pg_sleep(0.01))",
    "0 AND (SELECT count(*) FROM auth_user) > 0",
    "0/**/OR/**/1=1",
    "-1 OR total_cents IS NULL",
    "100 --",
]
DATE_PAYLOADS = [
    "2023-01-01' OR '1'='1",
    "2023-01-01' " + UNION_TOKENS + " --",
    "2023-01-01' AND (SELECT 1 FROM pg_sleep(0.01)) IS NOT NULL --",
    "2023-01-01' AND '1'='0",
    "' OR 1=1 --",
    "2023-01-01'::date OR 'a'='a",
    "2023-01-01'/**/OR/**/'a'='a",
    "2000-01-01'::date+'1",
]
SORT_PAYLOADS = [
    "(SELECT 1 FROM pg_sleep(0.01))",
    "CASE WHEN (SELECT substr(key, 1, 1) FROM reports_apitoken LIMIT 1) > 'M' THEN total_cents ELSE id END",
    "total_cents, (SELECT 1 FROM pg_sleep(0.01))",
    "placed_on DESC NULLS FIRST",
    "(SELECT count(*) FROM auth_user)",
    "1",
    "placed_on ASC --",
    # No whitespace at all: a "one word" check lets these through.
    "total_cents,(SELECT/**/1/**/FROM/**/pg_sleep(0.01))",
    "CASE/**/WHEN/**/(SELECT/**/substr(key,1,1)/**/FROM/**/reports_apitoken/**/LIMIT/**/1)>'M'/**/THEN/**/total_cents/**/ELSE/**/id/**/END",
    "placed_on/**/DESC",
    "reports_order.total_cents",
    # A column of the table that is not one of the listed sorts.
    "status",
    "id",
]
DIRECTION_PAYLOADS = [
    "desc, (SELECT 1 FROM pg_sleep(0.01))",
    "asc NULLS FIRST",
    "desc, CASE WHEN (SELECT count(*) FROM reports_apitoken) > 0 THEN id END",
    "asc --",
    "desc LIMIT 1",
    "desc,(SELECT/**/1/**/FROM/**/pg_sleep(0.01))",
    "desc/**/NULLS/**/FIRST",
    "DESC,id",
]
# Second statements that write, in every parameter (with and without a
# closing parenthesis: QuerySet.extra() wraps its SQL in one).
WRITES = [
    ("customer", "'; DELETE FROM reports_order; --"),
    ("customer", "%'); DELETE FROM reports_order; --"),
    ("status", "'; UPDATE auth_user SET is_superuser = true; --"),
    ("status", "'); UPDATE reports_order SET status = 'pwned'; --"),
    ("min_total", "0; DELETE FROM reports_apitoken; --"),
    ("placed_from", "2023-01-01'; INSERT INTO reports_apitoken (label, key) VALUES ('x', 'pwned'); --"),
    ("placed_to", "2024-12-31'; UPDATE reports_order SET status = 'pwned'; --"),
    ("sort", "id; UPDATE reports_order SET total_cents = 0; --"),
    ("direction", "asc; DELETE FROM reports_order; --"),
]


@pytest.mark.check("text-filters-inert")
def test_text_filters_inert(shop):
    twins = {}
    for name in ("customer", "status"):
        for payload in TEXT_PAYLOADS:
            shop.attack(name, payload, twins, expect="text")


@pytest.mark.check("numeric-filter-inert")
def test_numeric_filter_inert(shop):
    twins = {}
    for payload in NUMERIC_PAYLOADS:
        shop.attack("min_total", payload, twins, expect=400)


@pytest.mark.check("date-filters-inert")
def test_date_filters_inert(shop):
    twins = {}
    for name in ("placed_from", "placed_to"):
        for payload in DATE_PAYLOADS:
            shop.attack(name, payload, twins, expect=400)


@pytest.mark.check("sort-inert")
def test_sort_inert(shop):
    twins = {}
    for payload in SORT_PAYLOADS:
        shop.attack("sort", payload, twins, expect=400)
    for payload in DIRECTION_PAYLOADS:
        shop.attack("direction", payload, twins, expect=400)


@pytest.mark.check("data-unchanged")
def test_data_unchanged(shop):
    before = shop.state()
    for name, payload in WRITES:
        url, resp = shop.get({name: payload})
        after = shop.state()
        assert after == before, "GET %s (%s=%r) changed the database" % (url, name, payload)
    # The writes come through combined with other parameters too.
    for name, payload in WRITES:
        params = {"customer": "Traders", "min_total": "0", "placed_from": "2023-01-01", "sort": "total_cents",
                  "direction": "desc"}
        params[name] = payload
        url, resp = shop.get(params)
        after = shop.state()
        assert after == before, "GET %s (%s=%r) changed the database" % (url, name, payload)
