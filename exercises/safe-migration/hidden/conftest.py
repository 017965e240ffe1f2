"""Fixtures of the hidden checks of safe-migration, for the out-of-process judge.

The candidate's migrations run in the candidate's container
(``candidate.manage("migrate", ...)``); everything is judged here, from
the database, over the judge's own psycopg2 connections:

  * the judge plays the OLD release: it writes orders_order with raw SQL
    that names only the columns the old model knows;
  * statement-level triggers with a transition table log how many rows
    every UPDATE of the app's role changed (ORM, raw SQL and PL/pgSQL
    alike), and, while locks are probed, make each UPDATE last as long as
    it would on a big table (0.25 ms per row);
  * event triggers record every ALTER TABLE of the app's role that scanned
    orders_order while holding an ACCESS EXCLUSIVE lock on it (a plain
    SET NOT NULL, a VALIDATE in the same transaction as the ADD, a rewrite);
  * a prober thread keeps inserting, updating (rows the backfill already
    did, too) and reading orders with a short lock_timeout while a
    migration runs: as the old release during deploy 1 (every new
    migration but the last), as the new release during deploy 2 (the
    last migration, the contract, once the old release is gone).

The app's role may not create functions (judge-pg.sh revokes plpgsql and
sql from PUBLIC, for the statement counts), so no candidate can use a
trigger or a DO block: the prompt's two-deploy rollout is what makes the
old release's writes after the backfill workable.

Migrations are state, so every scenario starts from the old release: the
orders app is moved back to 0002 through the candidate's own reverse
migrations, or, if that fails or leaves the schema different from the
old release's, its tables are dropped and 0001-0002 re-applied. Each
scenario runs once (module fixtures) and several checks judge what it saw.
"""

import os
import random
import re
import threading
import time
import zlib

import psycopg2
import psycopg2.extras
import pytest
from djgrade_judge import seed

APP = "orders"
OLD = "0002_order_shipped_at"
TABLE = "orders_order"
NEW = "normalized_email"
OLD_COLUMNS = ["id", "customer_email", "total_cents", "created_at", "shipped_at"]
APP_ROLE = "app"
JS = "djgrade_judge"  # the judge's own schema: logs and trigger functions
MIGRATE_TIMEOUT = 90


def expected(email):
    """The normalized form the prompt defines: surrounding spaces off, lower case."""
    return email.strip().lower()


def rng_for(name):
    return random.Random(seed() * 1000003 + zlib.crc32(name.encode()))


_DOMAINS = ["example.com", "Example.COM", "mail.example.org", "Shop.Example.net", "EXAMPLE.io", "sub.example.co.uk"]


def random_email(rng):
    """An address as a customer types it: ASCII, random case, spaces around it sometimes."""
    local = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789._+") for _ in range(rng.randint(3, 14)))
    local = "a" + local
    email = local + "@" + rng.choice(_DOMAINS)
    shape = rng.randrange(6)
    if shape == 1:
        email = email.upper()
    elif shape == 2:
        email = "".join(c.upper() if rng.random() < 0.4 else c for c in email)
    elif shape == 3:
        email = email.lower()
    return " " * rng.choice([0, 0, 1, 2, 3]) + email + " " * rng.choice([0, 0, 1, 2, 4])


def connect():
    conn = psycopg2.connect(
        host=os.environ["DJGRADE_DB_HOST"], port=os.environ.get("DJGRADE_DB_PORT", "5432"),
        user="judge", dbname=os.environ.get("DJGRADE_DB_NAME", "djgrade"),
    )
    conn.autocommit = True
    return conn


class DB:
    """DB is one autocommit connection of the judge (superuser)."""

    def __init__(self):
        self.conn = connect()

    def q(self, sql, params=None):
        with self.conn.cursor() as c:
            c.execute(sql, params)
            return c.fetchall() if c.description else []

    def one(self, sql, params=None):
        rows = self.q(sql, params)
        return rows[0][0] if rows else None

    def close(self):
        self.conn.close()

    # The schema.

    def exists(self):
        return self.one("SELECT to_regclass(%s) IS NOT NULL", ["public." + TABLE])

    def columns(self):
        rows = self.q(
            "SELECT column_name, is_nullable FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name = %s", [TABLE])
        return {name: nullable == "YES" for name, nullable in rows}

    def fingerprint(self):
        """What the old release could notice of orders_order: columns, constraints, indexes, triggers."""
        if not self.exists():
            return None
        cols = self.q(
            "SELECT column_name, data_type, character_maximum_length, is_nullable, column_default "
            "FROM information_schema.columns WHERE table_schema = 'public' AND table_name = %s ORDER BY column_name",
            [TABLE])
        cons = self.q(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass ORDER BY 1", [TABLE])
        idx = self.q(
            "SELECT regexp_replace(indexdef, 'INDEX \\S+ ON', 'INDEX ON') FROM pg_indexes "
            "WHERE schemaname = 'public' AND tablename = %s ORDER BY 1", [TABLE])
        trg = self.q(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal "
            "AND tgname NOT LIKE 'djgrade\\_%%' ORDER BY 1", [TABLE])
        return {"columns": cols, "constraints": [r[0] for r in cons], "indexes": [r[0] for r in idx],
                "triggers": [r[0] for r in trg]}

    def applied(self):
        if not self.one("SELECT to_regclass('public.django_migrations') IS NOT NULL"):
            return []
        return [r[0] for r in self.q("SELECT name FROM django_migrations WHERE app = %s ORDER BY id", [APP])]

    # The data.

    def populate(self, rng, n):
        """n orders written by the old release; returns {id: customer_email}."""
        rows = [(random_email(rng), rng.randint(100, 99999), rng.random() < 0.3) for _ in range(n)]
        with self.conn.cursor() as c:
            psycopg2.extras.execute_values(
                c,
                "INSERT INTO %s (customer_email, total_cents, created_at, shipped_at) "
                "SELECT v.e, v.t, now() - interval '30 days', CASE WHEN v.s THEN now() END "
                "FROM (VALUES %%s) AS v(e, t, s)" % TABLE,
                rows, page_size=2000)
        return self.old_rows()

    def old_rows(self):
        return self.q("SELECT %s FROM %s ORDER BY id" % (", ".join(OLD_COLUMNS), TABLE))

    def values(self):
        return self.q("SELECT id, customer_email, %s FROM %s ORDER BY id" % (NEW, TABLE))

    def wrong(self, ids=None):
        bad = [(i, e, got) for i, e, got in self.values() if got != expected(e) and (ids is None or i in ids)]
        return bad

    # Judge's instruments.

    def install_update_log(self, per_row_ms=0.0):
        # started: when the UPDATE (or the statement running it) began.
        self.q("CREATE SCHEMA IF NOT EXISTS %s" % JS)
        self.q("REVOKE ALL ON SCHEMA %s FROM PUBLIC" % JS)
        self.q("DROP TABLE IF EXISTS %s.update_log" % JS)
        self.q("CREATE TABLE %s.update_log (id bigserial PRIMARY KEY, n bigint NOT NULL, xid bigint, "
               "at double precision NOT NULL, started double precision DEFAULT extract(epoch FROM statement_timestamp()))" % JS)
        self.q(
            "CREATE OR REPLACE FUNCTION %s.log_update() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$ "
            "DECLARE n bigint; BEGIN "
            "IF session_user = %s THEN "
            "  SELECT count(*) INTO n FROM djgrade_new_rows; "
            "  INSERT INTO %s.update_log (n, xid, at) VALUES (n, txid_current(), extract(epoch FROM clock_timestamp())); "
            "  IF n > 0 AND %s > 0 THEN PERFORM pg_catalog.pg_sleep(least(3.0, n * %s / 1000.0)); END IF; "
            "END IF; RETURN NULL; END $$" % (JS, "'%s'" % APP_ROLE, JS, per_row_ms, per_row_ms))
        self.q("DROP TRIGGER IF EXISTS djgrade_log_update ON %s" % TABLE)
        self.q("CREATE TRIGGER djgrade_log_update AFTER UPDATE ON %s REFERENCING NEW TABLE AS djgrade_new_rows "
               "FOR EACH STATEMENT EXECUTE FUNCTION %s.log_update()" % (TABLE, JS))

    def update_log(self):
        return self.q("SELECT n, xid, at FROM %s.update_log ORDER BY id" % JS)

    def install_ddl_log(self):
        self.q("CREATE SCHEMA IF NOT EXISTS %s" % JS)
        self.q("REVOKE ALL ON SCHEMA %s FROM PUBLIC" % JS)
        self.q("DROP TABLE IF EXISTS %s.ddl_log" % JS)
        self.q("CREATE TABLE %s.ddl_log (id bigserial PRIMARY KEY, query text, scans bigint, exclusive boolean, "
               "rewrite boolean NOT NULL DEFAULT false)" % JS)
        # Bullet-proof: an error here must never break the candidate's DDL.
        self.q(
            "CREATE OR REPLACE FUNCTION %(s)s.ddl_start() RETURNS event_trigger LANGUAGE plpgsql SECURITY DEFINER AS $$ "
            "DECLARE rel oid; BEGIN "
            "  IF session_user <> '%(r)s' THEN RETURN; END IF; "
            "  rel := pg_catalog.to_regclass('public.%(t)s'); "
            "  IF rel IS NOT NULL THEN "
            "    PERFORM pg_catalog.set_config('djgrade.scans', pg_catalog.pg_stat_get_xact_numscans(rel)::text, false); "
            "  END IF; "
            "EXCEPTION WHEN OTHERS THEN NULL; END $$" % {"s": JS, "r": APP_ROLE, "t": TABLE})
        self.q(
            "CREATE OR REPLACE FUNCTION %(s)s.ddl_end() RETURNS event_trigger LANGUAGE plpgsql SECURITY DEFINER AS $$ "
            "DECLARE rel oid; before bigint; now_ bigint; ae boolean; BEGIN "
            "  IF session_user <> '%(r)s' THEN RETURN; END IF; "
            "  rel := pg_catalog.to_regclass('public.%(t)s'); "
            "  IF rel IS NULL THEN RETURN; END IF; "
            "  before := nullif(pg_catalog.current_setting('djgrade.scans', true), '')::bigint; "
            "  now_ := pg_catalog.pg_stat_get_xact_numscans(rel); "
            "  ae := EXISTS (SELECT 1 FROM pg_catalog.pg_locks l WHERE l.locktype = 'relation' AND l.relation = rel "
            "        AND l.pid = pg_catalog.pg_backend_pid() AND l.mode = 'AccessExclusiveLock' AND l.granted); "
            "  INSERT INTO %(s)s.ddl_log (query, scans, exclusive) "
            "    VALUES (left(pg_catalog.current_query(), 400), now_ - coalesce(before, now_), ae); "
            "  PERFORM pg_catalog.set_config('djgrade.scans', '', false); "
            "EXCEPTION WHEN OTHERS THEN NULL; END $$" % {"s": JS, "r": APP_ROLE, "t": TABLE})
        self.q(
            "CREATE OR REPLACE FUNCTION %(s)s.ddl_rewrite() RETURNS event_trigger LANGUAGE plpgsql SECURITY DEFINER AS $$ "
            "BEGIN "
            "  IF session_user = '%(r)s' AND pg_catalog.pg_event_trigger_table_rewrite_oid() = "
            "     pg_catalog.to_regclass('public.%(t)s') THEN "
            "    INSERT INTO %(s)s.ddl_log (query, scans, exclusive, rewrite) "
            "      VALUES (left(pg_catalog.current_query(), 400), 1, true, true); "
            "  END IF; "
            "EXCEPTION WHEN OTHERS THEN NULL; END $$" % {"s": JS, "r": APP_ROLE, "t": TABLE})
        self.drop_ddl_log_triggers()
        self.q("CREATE EVENT TRIGGER djgrade_ddl_start ON ddl_command_start WHEN TAG IN ('ALTER TABLE') "
               "EXECUTE FUNCTION %s.ddl_start()" % JS)
        self.q("CREATE EVENT TRIGGER djgrade_ddl_end ON ddl_command_end WHEN TAG IN ('ALTER TABLE') "
               "EXECUTE FUNCTION %s.ddl_end()" % JS)
        self.q("CREATE EVENT TRIGGER djgrade_ddl_rewrite ON table_rewrite EXECUTE FUNCTION %s.ddl_rewrite()" % JS)

    def drop_ddl_log_triggers(self):
        for name in ("djgrade_ddl_start", "djgrade_ddl_end", "djgrade_ddl_rewrite"):
            self.q("DROP EVENT TRIGGER IF EXISTS %s" % name)

    def ddl_log(self):
        return self.q("SELECT query, scans, exclusive, rewrite FROM %s.ddl_log ORDER BY id" % JS)

    def remove_instruments(self):
        self.drop_ddl_log_triggers()
        if self.exists():
            self.q("DROP TRIGGER IF EXISTS djgrade_log_update ON %s" % TABLE)


# The old release, played by the judge.

class OldRelease:
    """OldRelease writes and reads orders_order with only the columns its model knows."""

    def __init__(self, rng, lock_timeout_ms=2000):
        self.rng = rng
        self.conn = connect()
        with self.conn.cursor() as c:
            c.execute("SET lock_timeout = %s", ["%dms" % lock_timeout_ms])
            c.execute("SET statement_timeout = '20s'")
        self.written = set()  # ids it inserted or changed

    def close(self):
        self.conn.close()

    def _run(self, sql, params=None):
        with self.conn.cursor() as c:
            c.execute(sql, params)
            return c.fetchall() if c.description else []

    def insert(self):
        email = random_email(self.rng)
        (pk,), = self._run(
            "INSERT INTO %s (customer_email, total_cents, created_at, shipped_at) "
            "VALUES (%%s, %%s, now(), NULL) RETURNING id" % TABLE, [email, self.rng.randint(100, 9999)])
        self.written.add(pk)
        return pk

    def update(self, pk, change_email=True):
        """What the old model's save() sends: every column it knows."""
        rows = self._run("SELECT customer_email, total_cents, created_at FROM %s WHERE id = %%s" % TABLE, [pk])
        if not rows:
            return
        email, total, created = rows[0]
        if change_email:
            email = random_email(self.rng)
            self.written.add(pk)
        self._run(
            "UPDATE %s SET customer_email = %%s, total_cents = %%s, created_at = %%s, shipped_at = now() "
            "WHERE id = %%s" % TABLE, [email, total + 1, created, pk])

    def read(self, pks):
        return self._run("SELECT %s FROM %s WHERE id = ANY(%%s)" % (", ".join(OLD_COLUMNS), TABLE), [list(pks)])

    def round(self, ids, n=20):
        """n inserts, n updates (e-mail changed) of existing orders, a read. Returns problems."""
        problems = []
        for kind, fn in (("INSERT", lambda: [self.insert() for _ in range(n)]),
                         ("UPDATE", lambda: [self.update(pk) for pk in self.rng.sample(ids, min(n, len(ids)))]),
                         ("SELECT", lambda: self.read(ids[:n]))):
            try:
                fn()
            except psycopg2.Error as exc:
                problems.append("%s: %s" % (kind, str(exc).strip().splitlines()[0]))
        return problems


def sqlstate(exc):
    return getattr(exc, "pgcode", None)


class Prober(threading.Thread):
    """Prober is the old release under load while a migration runs.

    Every round: an INSERT; an UPDATE of one of the first and one of the
    last orders (a backfill in primary-key order, either way, has done
    those first); an UPDATE of a random order; a read. lock_timeout is
    1 s: a statement that waits longer on a lock is a stalled request.
    """

    LOCK_TIMEOUT_MS = 1000

    def __init__(self, rng, lo, hi):
        super().__init__(daemon=True)
        self.rng, self.lo, self.hi = rng, lo, hi
        # "old": writes only the old columns; "new": fills normalized_email too.
        self.mode = "old"
        self.stop = threading.Event()
        self.lock_waits = []  # (kind, started, message)
        self.other_errors = []
        self.probes = []  # (kind, started)
        self.written = set()  # ids the old release inserted or changed
        self.conn = connect()
        with self.conn.cursor() as c:
            c.execute("SET lock_timeout = '%dms'" % self.LOCK_TIMEOUT_MS)
            c.execute("SET statement_timeout = '10s'")

    def _probe(self, kind, sql, params):
        started = time.time()
        old = self.mode == "old"
        try:
            with self.conn.cursor() as c:
                c.execute(sql, params)
                if old and c.description and kind == "INSERT":
                    self.written.add(c.fetchone()[0])
                elif old and kind.startswith("UPDATE") and c.rowcount:
                    self.written.add(params[-1])
        except psycopg2.Error as exc:
            msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            if sqlstate(exc) == "55P03":
                self.lock_waits.append((kind, started, msg))
            else:
                self.other_errors.append((kind, msg))
            return
        self.probes.append((kind, started))

    def run(self):
        head = list(range(self.lo, self.lo + 50))
        tail = list(range(self.hi - 50, self.hi + 1))
        try:
            while not self.stop.is_set():
                email = random_email(self.rng)
                if self.mode == "old":
                    self._probe("INSERT", "INSERT INTO %s (customer_email, total_cents, created_at, shipped_at) "
                                "VALUES (%%s, 1, now(), NULL) RETURNING id" % TABLE, [email])
                else:
                    self._probe("INSERT", "INSERT INTO %s (customer_email, %s, total_cents, created_at, shipped_at) "
                                "VALUES (%%s, %%s, 1, now(), NULL)" % (TABLE, NEW), [email, expected(email)])
                for kind, pool in (("UPDATE first", head), ("UPDATE last", tail),
                                   ("UPDATE any", range(self.lo, self.hi + 1))):
                    email = random_email(self.rng)
                    if self.mode == "old":
                        self._probe(kind, "UPDATE %s SET customer_email = %%s, shipped_at = now() WHERE id = %%s"
                                    % TABLE, [email, self.rng.choice(pool)])
                    else:
                        self._probe(kind, "UPDATE %s SET customer_email = %%s, %s = %%s, shipped_at = now() "
                                    "WHERE id = %%s" % (TABLE, NEW), [email, expected(email), self.rng.choice(pool)])
                self._probe("SELECT", "SELECT %s FROM %s WHERE id = %%s" % (", ".join(OLD_COLUMNS), TABLE),
                            [self.rng.randint(self.lo, self.hi)])
                time.sleep(0.02)
        finally:
            self.conn.close()


# Moving the candidate's project between releases.

class Rollout:
    """Rollout drives the candidate's migrations and resets to the old release."""

    def __init__(self, candidate, db):
        self.candidate, self.db = candidate, db
        self.pristine = None
        self.hard_resets = 0
        self.planned = None

    def migrate(self, *target, timeout=MIGRATE_TIMEOUT):
        return self.candidate.manage("migrate", APP, *target, "--noinput", timeout=timeout)

    def hard_reset(self):
        """Throw the app's tables and functions away; rebuild the old release from 0001-0002."""
        self.hard_resets += 1
        self.db.remove_instruments()
        for (t,) in self.db.q("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 'orders\\_%%'"):
            self.db.q('DROP TABLE IF EXISTS public."%s" CASCADE' % t)
        for (fn,) in self.db.q("SELECT p.oid::regprocedure::text FROM pg_proc p WHERE p.proowner = %s::regrole",
                               [APP_ROLE]):
            self.db.q("DROP FUNCTION IF EXISTS %s CASCADE" % fn)
        if self.db.one("SELECT to_regclass('public.django_migrations') IS NOT NULL"):
            self.db.q("DELETE FROM django_migrations WHERE app = %s", [APP])
        r = self.migrate(OLD)
        assert self.db.exists(), "migrating a fresh database to %s failed:\n%s" % (OLD, r.output[-2000:])

    def to_old(self):
        """Back to the old release with an empty orders table (ids from 1)."""
        self.db.remove_instruments()
        if self.pristine is None:
            self.hard_reset()
            self.pristine = self.db.fingerprint()
        else:
            self.migrate(OLD)
            if self.db.fingerprint() != self.pristine or self.db.applied()[-1:] != [OLD]:
                self.hard_reset()
        cols = sorted(self.db.columns())
        assert cols == sorted(OLD_COLUMNS), "migrations 0001-0002 (the old release) were changed: columns %s" % cols
        self.db.q("TRUNCATE %s RESTART IDENTITY" % TABLE)

    def learn_plan(self):
        """Right after migrating from the old release to the latest: the new migrations, in the order applied."""
        applied = self.db.applied()
        if OLD in applied and applied[-1] != OLD:
            self.planned = applied[applied.index(OLD) + 1:]

    def plan(self):
        """The new migrations, in order (each step is then verified in the database)."""
        if self.planned:
            return list(self.planned)
        out = self.candidate.manage("showmigrations", APP).output
        names = re.findall(r"^\s*\[[ X]\]\s+(\S+)\s*$", out, re.M)
        return names[names.index(OLD) + 1:] if OLD in names else []


@pytest.fixture(scope="session")
def db():
    d = DB()
    yield d
    d.close()


@pytest.fixture(scope="session")
def rollout(candidate, db):
    return Rollout(candidate, db)


def rows_changed(before, after):
    """rows_changed says in words how the orders (old_rows(), by id) differ from before."""
    if after is None:
        return "the orders table is gone"
    b, a = {r[0]: r for r in before}, {r[0]: r for r in after}
    parts = []
    lost, new = sorted(set(b) - set(a)), sorted(set(a) - set(b))
    changed = [i for i in sorted(set(a) & set(b)) if a[i] != b[i]]
    if lost:
        parts.append("%d of %d orders are gone (e.g. id %s)" % (len(lost), len(b), lost[0]))
    if new:
        parts.append("%d orders appeared (e.g. id %s)" % (len(new), new[0]))
    if changed:
        parts.append("%d orders changed, e.g. %r was %r" % (
            len(changed), dict(zip(OLD_COLUMNS, a[changed[0]])), dict(zip(OLD_COLUMNS, b[changed[0]]))))
    return "; ".join(parts) or "the same orders, read back in another order"


def need(cond, msg):
    """need fails a check whose scenario could not even be set up by the candidate's migrations."""
    if not cond:
        pytest.fail(msg, pytrace=False)
