"""The rollout on a populated table, nobody else writing; back to the old release; forward again."""

import pytest

from conftest import NEW, OLD, OLD_COLUMNS, TABLE, OldRelease, need, rng_for, rows_changed

ROWS = 6_000
# The prompt asks for at most 1,000 rows per UPDATE, in bold: that is the
# bound, with no tolerance.
MAX_ROWS_PER_UPDATE = 1_000
MAX_UPDATE_STATEMENTS = ROWS // 10


@pytest.fixture(scope="module")
def run(rollout, db):
    rng = rng_for("rollout")
    rollout.to_old()
    before = db.populate(rng, ROWS)
    db.install_update_log()
    db.install_ddl_log()
    try:
        result = rollout.migrate()
        cols = db.columns()
        obs = {
            "result": result, "before": before, "cols": cols,
            "old_rows": db.old_rows(),
            "wrong": db.wrong() if NEW in cols else None,
            "nulls": db.one("SELECT count(*) FROM %s WHERE %s IS NULL" % (TABLE, NEW)) if NEW in cols else None,
            "updates": [n for n, _xid, _at in db.update_log()],
            "ddl": db.ddl_log(),
        }
    finally:
        db.remove_instruments()
    rollout.learn_plan()
    obs["expanded"] = NEW in cols
    if not obs["expanded"]:
        return obs
    # Back to the old release, which writes for a while; then forward again.
    obs["before_back"] = db.old_rows()
    obs["back"] = rollout.migrate(OLD)
    obs["applied_back"] = db.applied()
    obs["fingerprint_back"] = db.fingerprint()
    obs["pristine"] = rollout.pristine
    obs["rows_back"] = db.old_rows() if db.exists() else None
    old = OldRelease(rng)
    try:
        ids = [r[0] for r in obs["rows_back"] or []]
        obs["old_problems"] = old.round(ids, n=40) if obs["rows_back"] is not None else ["the orders table is gone"]
    finally:
        old.close()
    obs["before_again"] = db.old_rows() if db.exists() else None
    obs["again"] = rollout.migrate()
    cols = db.columns()
    obs["cols_again"] = cols
    obs["rows_again"] = db.old_rows() if db.exists() else None
    obs["wrong_again"] = db.wrong() if NEW in cols else None
    return obs


def _migrated(obs):
    need(obs["expanded"], "after `migrate orders` orders_order has no normalized_email column:\n%s"
         % obs["result"].output[-1500:])


@pytest.mark.check("backfill-values")
def test_backfill_values(run):
    _migrated(run)
    assert not run["cols"][NEW], "normalized_email is still nullable once every migration has run (it must be NOT NULL)"
    assert run["old_rows"] == run["before"], "the old release's columns changed while migrating: %s" % rows_changed(
        run["before"], run["old_rows"])
    wrong = run["wrong"]
    assert not wrong, "%d of %d orders have a wrong normalized_email, e.g. %r" % (len(wrong), len(run["before"]), wrong[:3])


@pytest.mark.check("backfill-batched")
def test_backfill_batched(run):
    _migrated(run)
    # Filled, not necessarily right: backfill-values judges the values.
    assert run["nulls"] == 0, "the backfill left %d orders without a normalized_email" % run["nulls"]
    touched = [n for n in run["updates"] if n > 0]
    assert touched, "no UPDATE statement changed orders: the backfill did not run as UPDATEs"
    assert max(touched) <= MAX_ROWS_PER_UPDATE, (
        "one UPDATE changed %d of %d orders: the backfill is not batched (at most 1,000 rows per UPDATE)"
        % (max(touched), ROWS))
    assert len(touched) <= MAX_UPDATE_STATEMENTS, (
        "%d UPDATE statements changed the %d orders: the backfill works row by row" % (len(touched), ROWS))


@pytest.mark.check("no-exclusive-scan")
def test_no_exclusive_scan(run):
    _migrated(run)
    need(not run["cols"][NEW], "normalized_email never becomes NOT NULL, so there is no contract step to judge")
    bad = [(q, rewrite) for q, scans, exclusive, rewrite in run["ddl"] if exclusive and scans and scans > 0]
    assert not bad, (
        "an ALTER TABLE %s the whole orders table while holding an ACCESS EXCLUSIVE lock on it (on 30M rows, "
        "minutes without a single order): %s" % (
            "rewrote" if bad[0][1] else "scanned", " ".join(bad[0][0].split())[:300]))


@pytest.mark.check("reverse-to-old-release")
def test_reverse_to_old_release(run):
    _migrated(run)
    applied = run["applied_back"]
    assert applied and applied[-1] == OLD, (
        "`migrate orders %s` did not bring the app back to the old release (applied: %s):\n%s"
        % (OLD, applied[-3:], run["back"].output[-1500:]))
    fp, pristine = run["fingerprint_back"], run["pristine"]
    assert fp is not None, "migrating back dropped the orders table"
    names = [c[0] for c in fp["columns"]]
    assert names == sorted(OLD_COLUMNS), (
        "after migrating back orders_order has the columns %s, the old release expects %s" % (names, sorted(OLD_COLUMNS)))
    for part in ("columns", "constraints", "indexes", "triggers"):
        assert fp[part] == pristine[part], (
            "after migrating back the table's %s differ from the old release's: %r, expected %r"
            % (part, fp[part], pristine[part]))
    assert run["rows_back"] == run["before_back"], "migrating back lost or changed existing orders: %s" % rows_changed(
        run["before_back"], run["rows_back"])
    assert not run["old_problems"], "after migrating back the old release cannot write orders: %s" % run["old_problems"][0]


@pytest.mark.check("forward-again")
def test_forward_again(run):
    _migrated(run)
    fp = run["fingerprint_back"]
    need(fp is not None and NEW not in [c[0] for c in fp["columns"]] and run["applied_back"][-1:] == [OLD],
         "the migrations could not be reversed, so they cannot be applied again")
    cols = run["cols_again"]
    assert NEW in cols and not cols[NEW], (
        "migrating forward again did not leave a NOT NULL normalized_email:\n%s" % run["again"].output[-1500:])
    assert run["rows_again"] == run["before_again"], "migrating forward again lost or changed orders: %s" % (
        rows_changed(run["before_again"], run["rows_again"]) if run["before_again"] is not None else "the orders table is gone")
    wrong = run["wrong_again"]
    assert not wrong, "%d orders have a wrong normalized_email after re-applying the migrations, e.g. %r" % (
        len(wrong), wrong[:3])
