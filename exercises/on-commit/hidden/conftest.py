"""Fixtures of the hidden checks of on-commit: a judge-side Celery worker and commit stamps.

The candidate's project publishes process_order to the run's Redis (the
judge's container runs it). Nothing of the candidate's runs here: the
judge observes the broker and the database itself.

  * A Celery worker of the judge's own (its own app, json only, the task
    name of the contract registered to a judge function) consumes the
    default queue in a thread. On receipt of each message (Celery's
    task_received signal, before any countdown/ETA is honoured) it reads,
    over a fresh judge connection, whether the order the message names is
    committed and complete (total, lines), and records the message's
    arguments.
  * A MONITOR connection to Redis records when each message was pushed
    (Redis's clock; the same host clock as PostgreSQL's).
  * The commit time of an order is PostgreSQL's own commit timestamp
    (track_commit_timestamp=on in the judge's server) of the transactions
    that wrote its rows: pg_xact_commit_timestamp(xmin) of the order's row
    and of its lines' rows, the latest. The app cannot move it. A judge
    trigger pauses 0.1 s on the order's INSERT, so that a task published
    inside the transaction typically reaches the worker while the order is
    still invisible (wording only). What decides: a message pushed inside
    the transaction is pushed before that commit; one pushed after the
    commit is pushed after.
  * The push time of a task id is the earliest Redis command of any kind
    (LPUSH, RPUSH, EVAL, any case, any key) whose arguments contain it. A
    push to another list than the default queue, a push of a task name the
    workers do not know, or a push whose task cannot be read fails the
    check that saw it.
  * Every process_order message of the session is counted per order id: a
    check fails on any message for an order id other than its own, naming
    the check that placed that order.
  * After each request the judge publishes a sentinel message and waits
    until both the worker and the monitor have seen it: everything the
    request published before answering came before it (a FIFO queue), so
    no fixed sleep decides anything.
"""

import os
import re
import threading
import time
import uuid

import psycopg2
import psycopg2.errors
import pytest
from djgrade_judge import freeze_schema

from orders.models import Product

TASK = "orders.tasks.process_order"
SENTINEL = "djgrade.sentinel"
JS = "djgrade_oc"
ORDERS_URL = "/api/orders/"
BULK_URL = "/api/orders/bulk/"
WAIT_S = 20.0


def redis_url():
    url = os.environ.get("DJGRADE_REDIS_URL", "")
    assert url, "DJGRADE_REDIS_URL is not set: the run has no Redis (manifest services: [redis])"
    return url


def judge_connection():
    conn = psycopg2.connect(
        host=os.environ.get("DJGRADE_DB_HOST"), port=os.environ.get("DJGRADE_DB_PORT", "5432"),
        user="judge", dbname=os.environ.get("DJGRADE_DB_NAME", "djgrade"),
    )
    conn.autocommit = True
    return conn


class Observer:
    """What the broker carried: pushes (from MONITOR) and receipts (from the judge's worker)."""

    def __init__(self):
        self.cond = threading.Condition()
        self.pushed = {}      # task id -> Redis time of the first push naming it
        self.commands = []    # (Redis time, lower-cased text) of every command but the judge's polling
        self.received = []    # process_order messages, in the order the worker received them
        self.sentinels = set()
        self.anomalies = []   # (Redis time, text): pushes elsewhere, unknown tasks, unreadable pushes
        self.owner = {}       # order id -> the check (what) that placed it
        self.count = {}       # order id -> process_order messages received for it this session
        self.monitor_error = None
        self.closing = False
        self.db = None

    # The worker side (its consumer thread).

    def on_received(self, sender=None, request=None, **kw):
        if request is None:
            return
        if request.name == SENTINEL:
            with self.cond:
                self.sentinels.add(request.id)
                self.cond.notify_all()
            return
        if request.name != TASK:
            return
        args, kwargs = tuple(request.args or ()), dict(request.kwargs or {})
        order_id = None
        if len(args) == 1 and not kwargs:
            order_id = args[0]
        elif not args and list(kwargs) == ["order_id"]:
            order_id = kwargs["order_id"]
        seen = self.look(order_id)
        with self.cond:
            if isinstance(order_id, int):
                self.count[order_id] = self.count.get(order_id, 0) + 1
            self.received.append({
                "id": request.id, "args": args, "kwargs": kwargs, "order_id": order_id,
                "eta": str(request.eta) if request.eta else None, "seen": seen,
            })
            self.cond.notify_all()

    def look(self, order_id):
        """What a worker finds of the order at receipt, over a fresh judge connection."""
        if not isinstance(order_id, int) or isinstance(order_id, bool):
            return {"at": None, "exists": False}
        if self.db is None or self.db.closed:
            self.db = judge_connection()
            with self.db.cursor() as cur:
                # A worker's read must not wait for the app's transaction (LOCK TABLE): a wait
                # is reported as what the worker found, not waited out.
                cur.execute("SET lock_timeout = '300ms'")
        try:
            with self.db.cursor() as cur:
                cur.execute(
                    "SELECT extract(epoch FROM clock_timestamp())::float8, o.id IS NOT NULL, o.total_cents, "
                    "(SELECT count(*) FROM orders_orderline l WHERE l.order_id = o.id), "
                    "(SELECT coalesce(sum(l.quantity * l.unit_price_cents), 0) FROM orders_orderline l WHERE l.order_id = o.id) "
                    "FROM (SELECT 1) one LEFT JOIN orders_order o ON o.id = %s", (order_id,))
                at, exists, total, n_lines, lines_total = cur.fetchone()
        except psycopg2.errors.LockNotAvailable:
            return {"at": None, "exists": False, "blocked": True}
        return {"at": at, "exists": exists, "total": total, "lines": n_lines, "lines_total": int(lines_total)}

    # The monitor side.

    def monitor(self, m):
        pat_id = re.compile(r'[{,]\s*"id":\s*"([^"]+)"', re.I)
        pat_task = re.compile(r'[{,]\s*"task":\s*"([^"]+)"', re.I)
        pushes = ("lpush", "rpush", "lpushx", "rpushx", "linsert", "lset", "lmove", "rpoplpush",
                  "blmove", "brpoplpush", "eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro")
        try:
            for cmd in m.listen():
                text = cmd.get("command", "")
                low = text.lower()
                verb = low.split(" ", 1)[0]
                if verb in ("brpop", "blpop", "ping", "multi", "exec", "hset", "zadd", "zrem", "hdel",
                            "smembers", "sadd", "publish", "subscribe", "psubscribe", "unsubscribe"
                            ) and len(low) < 500:
                    continue  # the transport's polling and acks: no task is pushed by these
                with self.cond:
                    self.commands.append((cmd["time"], low))
                    if verb in pushes:
                        parts = text.split(" ", 2)
                        key = parts[1].strip('"') if len(parts) > 1 else ""
                        ids, tasks = pat_id.findall(text), pat_task.findall(text)
                        if verb not in ("lpush", "rpush") or key != "celery":
                            self.anomalies.append((cmd["time"], "%s to %r" % (verb.upper(), key)))
                        elif not ids or not tasks:
                            self.anomalies.append((cmd["time"], "a push to the queue whose task cannot be read"))
                        else:
                            unknown = [t for t in tasks if t not in (TASK, SENTINEL)]
                            if unknown:
                                self.anomalies.append((cmd["time"], "a message of task %s, which the workers do "
                                                       "not know" % ", ".join(unknown)))
                        for tid in ids:
                            self.pushed.setdefault(tid, cmd["time"])
                    self.cond.notify_all()
        except Exception as e:
            with self.cond:
                if not self.closing:
                    self.monitor_error = "%s: %s" % (type(e).__name__, e)
                self.cond.notify_all()


class Broker:
    """The session's view of the broker, with the barrier the checks wait on."""

    def __init__(self, app, sentinel_task, observer):
        self.app, self.sentinel_task, self.obs = app, sentinel_task, observer
        self.cursor = 0
        self.accounted = False
        self.anomaly_cursor = 0

    def mark(self):
        """mark is where a check starts: every message not accounted for by an earlier check
        (a late one included) is in the check's window, and so is every anomaly."""
        with self.obs.cond:
            return (self.cursor, self.anomaly_cursor)

    def done(self, owned=(), what=""):
        """done accounts for everything seen so far; owned are the order ids the check placed."""
        self.accounted = True
        with self.obs.cond:
            for oid in owned:
                self.obs.owner.setdefault(oid, what)
            self.cursor = len(self.obs.received)
            self.anomaly_cursor = len(self.obs.anomalies)

    def anomalies(self, mark):
        with self.obs.cond:
            return ["%s (Redis time %.3f)" % (t, at) for at, t in self.obs.anomalies[mark[1]:]]

    def origin(self, oid):
        with self.obs.cond:
            return self.obs.owner.get(oid), self.obs.count.get(oid, 0)

    def drain(self, settle=0.0):
        """Waits until every message published so far has been received and its push seen."""
        if settle:
            time.sleep(settle)
        token = "djgrade-sentinel-" + uuid.uuid4().hex
        self.sentinel_task.apply_async(args=[token], task_id=token)
        deadline = time.monotonic() + WAIT_S
        with self.obs.cond:
            while not (token in self.obs.sentinels and token in self.obs.pushed):
                assert self.obs.monitor_error is None, (
                    "the judge could not watch Redis (MONITOR): %s" % self.obs.monitor_error)
                left = deadline - time.monotonic()
                assert left > 0, "the judge's worker did not receive its own marker message within %.0fs" % WAIT_S
                self.obs.cond.wait(left)

    def since(self, mark):
        """since lists the process_order messages received after mark, each with its push time."""
        with self.obs.cond:
            msgs = [dict(m) for m in self.obs.received[mark[0]:]]
            commands = list(self.obs.commands)
        for m in msgs:
            # The earliest command of any kind, on any key, whose arguments name the task id.
            tid = str(m["id"]).lower()
            m["pushed"] = next((at for at, low in commands if tid in low), None)
        return msgs


@pytest.fixture(scope="session")
def broker():
    import redis
    from celery import Celery, signals
    from celery.contrib.testing.worker import start_worker

    url = redis_url()
    obs = Observer()
    app = Celery("djgrade_judge", broker=url, fixups=[], set_as_current=False)
    app.conf.update(
        accept_content=["json"], task_serializer="json", task_ignore_result=True, result_backend=None,
        worker_hijack_root_logger=False, broker_connection_retry_on_startup=True,
        worker_prefetch_multiplier=4, task_default_queue="celery",
    )

    @app.task(name=TASK, shared=False, lazy=False)
    def judge_process_order(*args, **kwargs):
        return None  # the judge decided everything on receipt

    @app.task(name=SENTINEL, shared=False, lazy=False)
    def sentinel(token):
        return None

    def received(sender=None, request=None, **kw):
        if getattr(sender, "app", None) is app:
            obs.on_received(sender=sender, request=request)

    signals.task_received.connect(received, weak=False)
    client = redis.Redis.from_url(url)
    # MONITOR is on before anything is published (its OK is read here).
    mon_conn = client.monitor()
    mon_conn.__enter__()
    mon = threading.Thread(target=obs.monitor, args=(mon_conn,), daemon=True, name="djgrade-monitor")
    mon.start()
    with start_worker(app, pool="solo", concurrency=1, perform_ping_check=False, loglevel="WARNING",
                      shutdown_timeout=10.0):
        b = Broker(app, sentinel, obs)
        _BROKER[:] = [b]
        b.drain()
        b.done()
        yield b
    obs.closing = True
    mon_conn.connection.disconnect()
    client.close()


TRIGGERS = """
CREATE SCHEMA IF NOT EXISTS {js};
REVOKE ALL ON SCHEMA {js} FROM PUBLIC;
CREATE OR REPLACE FUNCTION {js}.pause() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog AS $$
BEGIN
  PERFORM pg_sleep(0.1);
  RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS djgrade_oc_order ON orders_order;
CREATE TRIGGER djgrade_oc_order AFTER INSERT ON orders_order FOR EACH ROW EXECUTE FUNCTION {js}.pause();
""".format(js=JS)


@pytest.fixture(scope="session", autouse=True)
def served(candidate, django_db_blocker, broker):
    result = candidate.manage("migrate", "--noinput")
    assert result.ok, "migrate failed in the candidate's project:\n%s" % result.output
    with django_db_blocker.unblock():
        freeze_schema()
        conn = judge_connection()
        try:
            with conn.cursor() as cur:
                cur.execute(TRIGGERS)
        finally:
            conn.close()
    candidate.serve()
    return candidate


def stamps():
    """stamps maps an order id to the time of its last commit: PostgreSQL's own commit timestamp
    of the transactions that wrote the order's row and its lines' rows (the latest)."""
    conn = judge_connection()
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT o.id, extract(epoch FROM greatest(pg_xact_commit_timestamp(o.xmin), "
                "(SELECT max(pg_xact_commit_timestamp(l.xmin)) FROM orders_orderline l WHERE l.order_id = o.id)))::float8 "
                "FROM orders_order o")
            return {r[0]: r[1] for r in cur.fetchall()}
    finally:
        conn.close()


@pytest.fixture(autouse=True)
def accounted(served, broker):
    """A check that stops before accounting for its messages (a wrong answer) still owns them."""
    broker.accounted = False
    yield
    if not broker.accounted:
        broker.done()


# Data.

_WORDS = ["MUG", "TEA", "LAMP", "PEN", "BAG", "CUP", "JAR", "MAP", "KIT", "BOX", "HAT", "INK"]


class Shop:
    """Shop makes products and orders from the run's seed, and what the API must answer for them."""

    def __init__(self, rng):
        self.rng = rng
        self.products = {}
        self.stock = {}

    def product(self, stock=None):
        i = len(self.products)
        sku = "%s-%d%d" % (_WORDS[i % len(_WORDS)], self.rng.randrange(10, 99), i)
        price = self.rng.randrange(150, 9000)
        stock = stock if stock is not None else self.rng.randrange(200, 500)
        Product.objects.create(sku=sku, name="Product %s" % sku, price_cents=price, stock=stock)
        self.products[sku] = price
        self.stock[sku] = stock
        return sku

    def stocked(self, n):
        return [self.product() for _ in range(n)]

    def lines(self, skus, n=None):
        n = n or self.rng.randint(1, 4)
        return [(sku, self.rng.randint(1, 5)) for sku in self.rng.sample(skus, min(n, len(skus)))]

    def failing(self, skus, scarce):
        """lines of an order that runs out of stock on scarce, at a random position among others."""
        lines = self.lines(skus, self.rng.randint(1, 3))
        lines.insert(self.rng.randint(0, len(lines)), (scarce, self.stock[scarce] + self.rng.randint(1, 3)))
        return lines

    @staticmethod
    def payload(lines):
        return {"lines": [{"sku": s, "quantity": q} for s, q in lines]}

    def body(self, order_id, lines):
        """The JSON of an order placed with these lines (and takes their stock)."""
        for s, q in lines:
            self.stock[s] -= q
        return {
            "id": order_id,
            "total_cents": sum(q * self.products[s] for s, q in lines),
            "lines": [{"sku": s, "quantity": q, "unit_price_cents": self.products[s]} for s, q in lines],
        }

    def total(self, lines):
        return sum(q * self.products[s] for s, q in lines)


@pytest.fixture
def shop(rng):
    return Shop(rng)


@pytest.fixture
def customer(make_user):
    return make_user("hidden-customer")


_BROKER = []


def describe(msgs):
    def one(m):
        text = "args=%r kwargs=%r%s" % (m["args"], m["kwargs"], " eta=%s" % m["eta"] if m.get("eta") else "")
        if _BROKER and m.get("order_id") is not None:
            owner, n = _BROKER[0].origin(m["order_id"])
            if owner:
                text += " [order %s was placed earlier by %s; %d messages for it this session]" % (
                    m["order_id"], owner, n)
        return text
    return "; ".join(one(m) for m in msgs) or "none"


def assert_no_anomaly(broker, mark, what):
    bad = broker.anomalies(mark)
    assert not bad, "%s: the broker carried what the workers cannot take: %s" % (what, "; ".join(bad))


def assert_sent_after_commit(broker, mark, placed, what):
    """Exactly one message per placed order (id -> (total, line count)), each pushed after its
    order's last commit and finding the order complete on receipt; nothing else, in the check's
    window (which holds any late message of an earlier check too)."""
    msgs = broker.since(mark)
    broker.done(placed, what)
    assert_no_anomaly(broker, mark, what)
    st = stamps()
    by_order = {}
    for m in msgs:
        by_order.setdefault(m["order_id"], []).append(m)
    stray = [m for m in msgs if m["order_id"] not in placed]
    assert not stray, (
        "%s: process_order messages that name no placed order (%d placed: %s): %s"
        % (what, len(placed), sorted(placed), describe(stray)))
    for oid, (total, n_lines) in sorted(placed.items()):
        got = by_order.get(oid, [])
        assert len(got) == 1, (
            "%s: order %s was placed; expected exactly one process_order message for it, saw %d (%s)"
            % (what, oid, len(got), describe(got)))
        m = got[0]
        assert m["pushed"] is not None, "%s: the message for order %s was received but its push was not seen" % (what, oid)
        committed_at = st.get(oid)
        assert committed_at is not None, "%s: order %s has no commit timestamp" % (what, oid)
        assert m["pushed"] > committed_at, (
            "%s: the process_order message for order %s was published %.3fs BEFORE the transaction that wrote "
            "the order committed (a worker receiving it then found: %s)"
            % (what, oid, committed_at - m["pushed"], seen_text(m["seen"])))
        seen = m["seen"]
        assert seen["exists"] and seen["total"] == total and seen["lines"] == n_lines, (
            "%s: on receipt of its message, order %s was not complete as committed (expected total %d with %d "
            "lines; the worker found: %s)" % (what, oid, total, n_lines, seen_text(seen)))


def seen_text(seen):
    if seen.get("blocked"):
        return "its read of the order waited on a lock the app's transaction held"
    if not seen.get("exists"):
        return "no such order"
    return "total %s, %s lines" % (seen["total"], seen["lines"])


def place(app, customer, payload, url=ORDERS_URL):
    return app.post(url, json=payload, user=customer)
