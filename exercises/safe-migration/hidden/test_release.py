"""The new release's code: historical models in migrations, saves, makemigrations."""

import re

import pytest

from conftest import NEW, TABLE, expected, need, random_email, rng_for, rows_changed

MOVED = """
import orders.models as m
# A later release moved the model: migrations that import today's Order
# instead of apps.get_model() break, as they would when replayed next year.
m.Order._meta.db_table = "djgrade_orders_moved_later"
from django.core.management import call_command
call_command("migrate", "orders", interactive=False, verbosity=1)
"""

SAVES = """
from django.core.management import call_command
call_command("migrate", "orders", interactive=False, verbosity=0)
from orders.models import Order
a = Order.objects.create(customer_email=%(a)r, total_cents=101)
b = Order(customer_email=%(b)r, total_cents=102)
b.save()
b.customer_email = %(b2)r
b.save()
c = Order.objects.create(customer_email=%(c)r, total_cents=103)
c.customer_email = %(c2)r
c.save(update_fields=["customer_email"])
"""

# makemigrations --check has no effect in the database: its exit code is all
# there is to see (a hint, like every word from the candidate's container).
MAKEMIGRATIONS = """
code = 0
try:
    call_command("makemigrations", "orders", check=True, dry_run=True, interactive=False)
except SystemExit as exc:
    code = exc.code or 0
except BaseException as exc:
    print(repr(exc))
    code = 2
print("djgrade-makemigrations-exit=%d" % code)
"""


@pytest.fixture(scope="module")
def release(rollout, db, candidate):
    obs = {}
    rollout.to_old()
    obs["before"] = db.populate(rng_for("historical"), 500)
    obs["moved"] = candidate.manage("shell", "-c", MOVED, timeout=90)
    cols = db.columns()
    obs["moved_cols"] = cols
    obs["moved_rows"] = db.old_rows()
    obs["moved_nulls"] = db.one("SELECT count(*) FROM %s WHERE %s IS NULL" % (TABLE, NEW)) if NEW in cols else None
    db.q("TRUNCATE %s" % TABLE)
    rng = rng_for("saves")
    obs["emails"] = e = {k: random_email(rng) for k in ("a", "b", "b2", "c", "c2")}
    obs["saves"] = candidate.manage("shell", "-c", "\n".join(
        ["try:"] + ["    " + line for line in (SAVES % e).strip().splitlines()]
        + ["except BaseException as exc:", "    print('saves failed:', repr(exc))"]) + "\n" + MAKEMIGRATIONS, timeout=90)
    obs["cols"] = db.columns()
    obs["rows"] = dict(db.q("SELECT total_cents, %s FROM %s WHERE total_cents IN (101, 102, 103)" % (NEW, TABLE))) \
        if NEW in obs["cols"] else {}
    return obs


@pytest.mark.check("historical-model")
def test_historical_model(release):
    need(NEW in release["moved_cols"], "the migrations never add normalized_email:\n%s" % release["moved"].output[-1500:])
    assert release["moved_rows"] == release["before"], (
        "with today's Order model pointing elsewhere the migrations changed the old release's columns: %s"
        % rows_changed(release["before"], release["moved_rows"]))
    nulls = release["moved_nulls"]
    assert nulls == 0, (
        "with today's Order model pointing elsewhere the backfill left %d of %d orders empty: the data migration "
        "must use apps.get_model():\n%s" % (nulls, len(release["before"]), release["moved"].output[-1500:]))


@pytest.mark.check("new-release-fills")
def test_new_release_fills(release):
    need(NEW in release["cols"], "the migrations never add normalized_email")
    rows, e = release["rows"], release["emails"]
    need(len(rows) == 3, "the new release could not create orders:\n%s" % release["saves"].output[-1500:])
    for cents, label, email in ((101, "Order.objects.create()", e["a"]),
                                (102, "save() after changing customer_email", e["b2"]),
                                (103, "save(update_fields=['customer_email'])", e["c2"])):
        assert rows[cents] == expected(email), "%s of %r stored normalized_email %r, expected %r" % (
            label, email, rows[cents], expected(email))


@pytest.mark.check("models-agree")
def test_models_agree(release):
    out = release["saves"].output
    m = re.findall(r"djgrade-makemigrations-exit=(\d+)", out)
    assert m and m[-1] == "0", "makemigrations --check found changes the migrations lack:\n" + out[-1500:]
