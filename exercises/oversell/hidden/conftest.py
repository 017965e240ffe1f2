"""Fixtures of the hidden checks of oversell, for the out-of-process judge.

The candidate's project is migrated, frozen (djgrade_judge.freeze_schema)
and served by gunicorn (2 workers x 4 threads). The judge seeds products
and users through the exercise's own models, buys over HTTP from many
threads at once, and judges from the database and the server's log.

Forcing the race. A wrong checkout oversells only when another checkout
runs between its read and its write; on an idle server that window is a
millisecond. The judge widens it from inside PostgreSQL, where the app
cannot see or change it:

  * a restrictive row-level security policy FOR UPDATE on shop_product,
    for the app's role, whose expression is djgrade_judge.arrive(). It is
    evaluated on every row the app is about to lock or update (UPDATE,
    SELECT ... FOR UPDATE), before the lock is taken;
  * arrive() is a barrier: the first k*g rows that arrive in a round wait
    (in groups of k) until k rows have arrived or t seconds have passed.
    In a round of k concurrent checkouts every checkout has therefore
    done its reads before any of them writes (read-check-save always
    oversells), and every checkout has locked its first row before any
    of them locks its second (locking in cart order always deadlocks).
    The barrier never changes what a correct checkout does, only when.
    Arrivals are counted with a sequence (not transactional) and the
    configuration is a judge table the app cannot read;
  * an AFTER row trigger records every negative stock the app writes.

The app's role cannot create functions (judge-pg.sh), and after
freeze_schema it owns nothing, so it can neither drop nor get around the
policy; the judge's superuser bypasses it.
"""

import os
import threading

import pytest
from djgrade_judge import freeze_schema

JS = "djgrade_judge"
TABLE = "shop_product"
APP_ROLE = "app"
URL = "/api/orders/"
DEADLOCK = b"deadlock detected"
LOG_PREFIX = ("djgrade %s: " % APP_ROLE).encode()


def sql(statement, params=None):
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(statement, params)
        return cur.fetchall() if cur.description else []


def install_instruments():
    sql("CREATE SCHEMA IF NOT EXISTS %s" % JS)
    sql("REVOKE ALL ON SCHEMA %s FROM PUBLIC" % JS)
    sql("CREATE TABLE IF NOT EXISTS %s.barrier (k int NOT NULL, g int NOT NULL, t float8 NOT NULL)" % JS)
    sql("DELETE FROM %s.barrier" % JS)
    sql("INSERT INTO %s.barrier VALUES (1, 0, 0)" % JS)
    sql("CREATE SEQUENCE IF NOT EXISTS %s.arrivals" % JS)
    sql("CREATE TABLE IF NOT EXISTS %s.negative (product_id bigint, stock int)" % JS)
    sql(
        "CREATE OR REPLACE FUNCTION %(s)s.arrive() RETURNS boolean LANGUAGE plpgsql VOLATILE SECURITY DEFINER "
        "SET search_path = pg_catalog, pg_temp COST 100000 AS $$ "
        "DECLARE k int; g int; t float8; n bigint; target bigint; deadline timestamptz; BEGIN "
        "  SELECT b.k, b.g, b.t INTO k, g, t FROM %(s)s.barrier b LIMIT 1; "
        "  IF k IS NULL OR g <= 0 OR session_user <> '%(r)s' THEN RETURN true; END IF; "
        "  n := nextval('%(s)s.arrivals'); "
        "  IF n > k * g THEN RETURN true; END IF; "
        "  target := ((n - 1) / k + 1) * k; "
        "  deadline := clock_timestamp() + make_interval(secs => t); "
        "  WHILE (SELECT last_value FROM %(s)s.arrivals) < target AND clock_timestamp() < deadline LOOP "
        "    PERFORM pg_sleep(0.005); "
        "  END LOOP; "
        "  RETURN true; "
        "END $$" % {"s": JS, "r": APP_ROLE})
    sql(
        "CREATE OR REPLACE FUNCTION %(s)s.note_negative() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER "
        "SET search_path = pg_catalog, pg_temp AS $$ BEGIN "
        "  IF NEW.stock < 0 AND session_user = '%(r)s' THEN "
        "    INSERT INTO %(s)s.negative VALUES (NEW.id, NEW.stock); "
        "  END IF; RETURN NULL; END $$" % {"s": JS, "r": APP_ROLE})
    sql("DROP TRIGGER IF EXISTS djgrade_note_negative ON %s" % TABLE)
    sql("CREATE TRIGGER djgrade_note_negative AFTER INSERT OR UPDATE ON %s FOR EACH ROW "
        "EXECUTE FUNCTION %s.note_negative()" % (TABLE, JS))
    sql("ALTER TABLE %s ENABLE ROW LEVEL SECURITY" % TABLE)
    sql("DROP POLICY IF EXISTS djgrade_rows ON %s" % TABLE)
    sql("DROP POLICY IF EXISTS djgrade_barrier ON %s" % TABLE)
    sql("CREATE POLICY djgrade_rows ON %s USING (true) WITH CHECK (true)" % TABLE)
    sql("CREATE POLICY djgrade_barrier ON %s AS RESTRICTIVE FOR UPDATE TO %s USING (%s.arrive()) WITH CHECK (true)"
        % (TABLE, APP_ROLE, JS))


def set_barrier(k, g, t=0.5):
    """set_barrier makes the next k*g rows the app locks wait in groups of k (at most t s each)."""
    sql("UPDATE %s.barrier SET k = %%s, g = %%s, t = %%s" % JS, [k, g, t])
    sql("SELECT setval('%s.arrivals', 1, false)" % JS)


def barrier_off():
    sql("UPDATE %s.barrier SET g = 0" % JS)


def negatives():
    return sql("SELECT product_id, stock FROM %s.negative" % JS)


def clear_negatives():
    sql("DELETE FROM %s.negative" % JS)


@pytest.fixture(scope="session", autouse=True)
def served(candidate, django_db_blocker):
    """The candidate's project, migrated on the judge's database, frozen, instrumented and served."""
    result = candidate.manage("migrate", "--noinput")
    assert result.ok, "migrate failed in the candidate's project:\n%s" % result.output
    with django_db_blocker.unblock():
        freeze_schema()
        install_instruments()
    candidate.serve()
    return candidate


# The server's log: the app's deadlocks.

def log_size():
    try:
        return os.path.getsize(os.environ.get("DJGRADE_PG_LOG", ""))
    except OSError:
        return 0


def deadlocks_since(offset):
    """deadlocks_since counts the app's "deadlock detected" errors logged after offset."""
    end = log_size()
    if end <= offset:
        return 0
    with open(os.environ["DJGRADE_PG_LOG"], "rb") as f:
        f.seek(offset)
        lines = f.read(end - offset).split(b"\n")
    return sum(1 for line in lines if line.startswith(LOG_PREFIX) and DEADLOCK in line)


# Buying.

def cart(*items):
    """cart((product, quantity), ...) is the JSON body of a purchase."""
    return {"items": [{"product": p.pk if hasattr(p, "pk") else p, "quantity": q} for p, q in items]}


def buy_all(app, requests, timeout=20.0):
    """buy_all sends every (user, body) at once, each from its own thread; returns the responses in order.

    A request that got no answer is returned as the AppError it raised.
    """
    start = threading.Barrier(len(requests))
    out = [None] * len(requests)

    def one(i, user, body):
        try:
            start.wait(timeout=10)
        except threading.BrokenBarrierError:
            pass
        try:
            out[i] = app.post(URL, json=body, user=user, timeout=timeout)
        except AssertionError as exc:  # AppError: no complete answer
            out[i] = exc

    threads = [threading.Thread(target=one, args=(i, u, b), daemon=True) for i, (u, b) in enumerate(requests)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout + 15)
    return out


def status_of(response):
    return getattr(response, "status", None)


def describe(response):
    if not hasattr(response, "status"):
        return "no answer (%s)" % response
    return "%d %s" % (response.status, response.body[:160].decode("utf-8", "replace"))


def json_or_none(response):
    try:
        return response.json()
    except AssertionError:
        return None


def expected_order(order_id, username, items, prices):
    """The exact body of a 201: lines in the cart's order."""
    return {
        "id": order_id,
        "customer": username,
        "items": [{"product": pk, "quantity": q, "price_cents": prices[pk]} for pk, q in items],
        "total_cents": sum(prices[pk] * q for pk, q in items),
    }


def is_conflict_body(body, allowed):
    """A sold-out answer: {"detail": <non-empty text>, "product": <an id of the cart it could not serve>}."""
    return (isinstance(body, dict) and set(body) == {"detail", "product"} and isinstance(body["detail"], str)
            and body["detail"].strip() != "" and body["product"] in allowed)


@pytest.fixture
def buyers(make_user):
    """Three customers (Basic auth costs one query per request)."""
    return [make_user("buyer%d" % i) for i in range(3)]
