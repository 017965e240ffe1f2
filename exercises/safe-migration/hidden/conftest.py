"""Fixtures for the hidden checks of safe-migration.

The checks move the orders app between the old release (migration 0002, the
schema the running old code expects) and the candidate's latest migration on
a real PostgreSQL database, with data in the table.
"""

import contextlib
import copy
import io
from dataclasses import dataclass

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, connections, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader

APP = "orders"
OLD = "0002_order_shipped_at"
TABLE = "orders_order"
NEW = "normalized_email"
# The columns the old release reads and writes.
OLD_COLUMNS = ["id", "customer_email", "total_cents", "created_at", "shipped_at"]


def expected(email):
    """The normalized form the prompt defines: surrounding spaces off, lower case."""
    return email.strip().lower()


def make_email(i):
    # ASCII only and spaces only, so Python's strip/lower and SQL's
    # trim/lower agree; every shape a hand-typed address takes at checkout.
    shapes = [
        "customer{0}@example.com",
        "Customer{0}@Example.com",
        "  customer{0}@example.COM ",
        "ANA.{0}+TAG@MAIL.EXAMPLE.ORG",
        "bo.{0}@shop.example   ",
        "   MiXeD.{0}@Sub.Example.Net",
    ]
    return shapes[i % len(shapes)].format(i)


@dataclass
class Column:
    """Column is what information_schema says about one column of TABLE."""

    nullable: bool
    default: object


class Migrator:
    """Migrator drives the orders app's migrations and reads the table raw."""

    def columns(self):
        with connection.cursor() as c:
            c.execute(
                "SELECT column_name, is_nullable, column_default FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = %s",
                [TABLE],
            )
            return {name: Column(nullable == "YES", default) for name, nullable, default in c.fetchall()}

    def leaf(self):
        loader = MigrationLoader(connection, ignore_no_migrations=True)
        leaves = loader.graph.leaf_nodes(APP)
        assert len(leaves) == 1, f"the orders app must have exactly one latest migration, found {leaves}"
        return leaves[0]

    def migrate(self, name, app=APP):
        # Own buffers: a command left holding pytest's captured stdout
        # complains at interpreter exit once the capture file is closed.
        out = io.StringIO()
        call_command("migrate", app, name, verbosity=0, interactive=False, stdout=out, stderr=out)

    def forward(self):
        self.migrate(self.leaf()[1])

    def plan_from_old(self):
        """The migrations that run, in order, from the old release to the latest."""
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan([self.leaf()])
        return [(m.app_label, m.name) for m, backwards in plan if not backwards]

    def hard_reset_to_old(self):
        # Used when the candidate's migrations cannot be reversed: throw the
        # app's tables away and rebuild the old release from 0001 and 0002.
        with connection.cursor() as c:
            for t in connection.introspection.table_names(c):
                if t.startswith(APP + "_"):
                    c.execute("DROP TABLE IF EXISTS %s CASCADE" % connection.ops.quote_name(t))
            c.execute("DELETE FROM django_migrations WHERE app = %s", [APP])
        self.migrate(OLD)

    def reset_to_old(self):
        try:
            self.migrate(OLD)
        except Exception:
            self.hard_reset_to_old()
        if NEW in self.columns():
            self.hard_reset_to_old()
        cols = sorted(self.columns())
        assert cols == sorted(OLD_COLUMNS), f"migrations 0001-0002 (the old release) were changed: columns {cols}"

    def populate(self, n):
        """Insert n orders the way the old release does; return them."""
        executor = MigrationExecutor(connection)
        Order = executor.loader.project_state((APP, OLD)).apps.get_model(APP, "Order")
        Order.objects.bulk_create(
            [Order(customer_email=make_email(i), total_cents=100 + i) for i in range(n)],
            batch_size=2000,
        )
        return self.old_rows()

    def old_rows(self):
        with connection.cursor() as c:
            c.execute("SELECT %s FROM %s ORDER BY id" % (", ".join(OLD_COLUMNS), TABLE))
            return c.fetchall()

    def normalized(self):
        with connection.cursor() as c:
            c.execute("SELECT id, customer_email, %s FROM %s ORDER BY id" % (NEW, TABLE))
            return c.fetchall()

    def unfilled(self):
        """How many orders still have no normalized_email."""
        with connection.cursor() as c:
            c.execute("SELECT count(*) FROM %s WHERE %s IS NULL" % (TABLE, NEW))
            return c.fetchone()[0]

    def wrong_values(self):
        return [(pk, email, got) for pk, email, got in self.normalized() if got != expected(email)]

    def old_release_insert(self):
        """Write a row with only the old columns, as the old code does; roll it back."""
        try:
            with transaction.atomic():
                with connection.cursor() as c:
                    c.execute(
                        "INSERT INTO %s (customer_email, total_cents, created_at, shipped_at) "
                        "VALUES (%%s, %%s, now(), NULL)" % TABLE,
                        [" Old.Release@Example.com", 4200],
                    )
                    raise _Rollback()
        except _Rollback:
            return None
        except Exception as exc:  # the database refused the old release's write
            return str(exc).strip()

    def old_release_update_and_read(self):
        """Mark an order shipped and read old columns back; roll back."""
        try:
            with transaction.atomic():
                with connection.cursor() as c:
                    c.execute("UPDATE %s SET shipped_at = now() WHERE id = (SELECT min(id) FROM %s)" % (TABLE, TABLE))
                    c.execute("SELECT %s FROM %s ORDER BY id LIMIT 5" % (", ".join(OLD_COLUMNS), TABLE))
                    c.fetchall()
                    raise _Rollback()
        except _Rollback:
            return None
        except Exception as exc:
            return str(exc).strip()

    @contextlib.contextmanager
    def update_log(self):
        """Record how many rows each UPDATE statement on TABLE touched.

        A statement-level trigger with a transition table sees every UPDATE,
        whether it came from the ORM, raw SQL or a PL/pgSQL loop.
        """
        with connection.cursor() as c:
            c.execute("CREATE TABLE djgrade_update_log (id serial PRIMARY KEY, n bigint NOT NULL)")
            c.execute(
                "CREATE FUNCTION djgrade_log_update() RETURNS trigger LANGUAGE plpgsql AS $$ "
                "BEGIN INSERT INTO djgrade_update_log (n) SELECT count(*) FROM djgrade_new_rows; RETURN NULL; END $$"
            )
            c.execute(
                "CREATE TRIGGER djgrade_log_update AFTER UPDATE ON %s REFERENCING NEW TABLE AS djgrade_new_rows "
                "FOR EACH STATEMENT EXECUTE FUNCTION djgrade_log_update()" % TABLE
            )
        counts = []
        try:
            yield counts
        finally:
            with connection.cursor() as c:
                c.execute("SELECT n FROM djgrade_update_log ORDER BY id")
                counts.extend(n for (n,) in c.fetchall())
                c.execute("DROP TRIGGER IF EXISTS djgrade_log_update ON %s" % TABLE)
                c.execute("DROP FUNCTION IF EXISTS djgrade_log_update()")
                c.execute("DROP TABLE IF EXISTS djgrade_update_log")

    @contextlib.contextmanager
    def lock_probe(self):
        """Try an old-release INSERT from a second connection once the backfill has updated rows.

        Yields a list that ends up holding the probe's lock failures. The probe
        runs after the first UPDATE on TABLE that changed rows (or after a DO
        block that mentions one): if the migration still holds a table lock
        then (an ALTER TABLE earlier in the same transaction), the old release
        would be stalled for the whole backfill.
        """
        failures = []
        state = {"probed": False}
        # A second connection to the same test database, built from the
        # backend's own class so it works with psycopg2 and psycopg 3 alike.
        settings_dict = copy.deepcopy(connection.settings_dict)

        def probe():
            state["probed"] = True
            other = type(connections[connection.alias])(settings_dict, alias="djgrade_lock_probe")
            try:
                other.ensure_connection()
                other.set_autocommit(False)
                with other.cursor() as c:
                    c.execute("SET LOCAL lock_timeout = '1500ms'")
                    try:
                        c.execute(
                            "INSERT INTO %s (customer_email, total_cents, created_at, shipped_at) "
                            "VALUES ('probe@example.com', 1, now(), NULL)" % TABLE
                        )
                        state["inserted"] = True
                    except DatabaseError as exc:
                        if _sqlstate(exc) == "55P03":  # lock_not_available
                            failures.append(str(exc).strip())
                        # Refused for another reason: the walk check judges that.
                other.rollback()
            finally:
                other.close()

        def wrapper(execute, sql, params_, many, context):
            result = execute(sql, params_, many, context)
            if not state["probed"] and isinstance(sql, str):
                text = sql.lstrip().upper()
                touches = TABLE.upper() in text
                if touches and text.startswith("UPDATE") and context["cursor"].rowcount > 0:
                    probe()
                elif touches and text.startswith("DO") and "UPDATE" in text:
                    probe()
            return result

        result = ProbeResult(failures)
        with connection.execute_wrapper(wrapper):
            yield result
        result.probed = state["probed"]
        result.inserted = state.get("inserted", False)


def _sqlstate(exc):
    """The SQLSTATE of the driver error behind a Django database error."""
    cause = exc.__cause__
    return getattr(cause, "pgcode", None) or getattr(cause, "sqlstate", None)


class ProbeResult:
    """ProbeResult says whether the lock probe ran and what it hit."""

    def __init__(self, failures):
        self.failures = failures
        self.probed = False
        # inserted says the probe's INSERT went through (then rolled back).
        self.inserted = False


class _Rollback(Exception):
    """Raised to leave an atomic block without keeping its writes."""


@pytest.fixture
def mig(transactional_db):
    """A Migrator on a transactional database, left fully migrated afterwards."""
    m = Migrator()
    yield m
    # Empty the table first: what is left of a failed test must not decide
    # whether the next test starts from a migrated database.
    try:
        with transaction.atomic(), connection.cursor() as c:
            c.execute("DELETE FROM %s" % TABLE)
    except Exception:
        pass
    try:
        m.forward()
    except Exception:
        m.hard_reset_to_old()
        m.forward()
