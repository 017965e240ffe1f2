"""The two deploys under load.

Deploy 1 is every new migration but the last, one at a time, while the old
release keeps inserting, updating (customer_email too, rows the backfill
already did too) and reading from another connection; after each step it
also writes a round of orders. Deploy 2 is the last migration, the
contract, once the old release is gone: the new release writes meanwhile.
"""

import pytest

from conftest import JS, NEW, TABLE, OldRelease, Prober, need, rng_for

ROWS = 8_000
# Each UPDATE of the app lasts 0.25 ms per row it changed (at most 3 s),
# as on a big table: batches of 1,000 take 0.25 s, an atomic backfill of
# 8,000 rows holds its row locks for 2 s or more.
PER_ROW_MS = 0.25


@pytest.fixture(scope="module")
def steps(rollout, db):
    rng = rng_for("steps")
    rollout.to_old()
    ids = [r[0] for r in db.populate(rng, ROWS)]
    lo, hi = ids[0], ids[-1]
    plan = rollout.plan()
    obs = {"plan": plan, "problems": [], "failed": [], "expanded": False, "outputs": []}
    db.install_update_log(per_row_ms=PER_ROW_MS)
    old = OldRelease(rng)
    prober = Prober(rng_for("steps-prober"), lo, hi)
    prober.start()
    try:
        for name in plan[:-1]:
            r = rollout.migrate(name)
            obs["outputs"].append(r.output[-1200:])
            if name not in db.applied():
                obs["failed"].append((name, r.output[-1200:]))
                break
            for p in old.round(ids):
                obs["problems"].append("after %s: %s" % (name, p))
        cols = db.columns()
        obs["expanded"] = NEW in cols and cols[NEW]
        # Deploy 1 is over; the old release has not stopped yet.
        for p in old.round(ids, n=40):
            obs["problems"].append("after deploy 1: %s" % p)
        # Deploy 2: the old release is gone; the new release writes during the contract.
        prober.mode = "new"
        if plan and not obs["failed"]:
            r = rollout.migrate(plan[-1])
            obs["outputs"].append(r.output[-1200:])
            if plan[-1] not in db.applied():
                obs["failed"].append((plan[-1], r.output[-1200:]))
    finally:
        prober.stop.set()
        prober.join(30)
    try:
        # Old-release requests still in flight: the old columns still work.
        try:
            for pk in rng.sample(ids, 10):
                old.update(pk, change_email=False)
            old.read(ids[:20])
        except Exception as exc:
            obs["problems"].append("after the contract, saving without changing the e-mail or reading: %s"
                                   % str(exc).strip())
        obs["written"] = set(old.written) | prober.written
    finally:
        old.close()
    log = db.q("SELECT n, started, at FROM %s.update_log WHERE n > 0 ORDER BY id" % JS)
    db.remove_instruments()
    obs["window"] = (min(s for _n, s, _a in log), max(a for _n, _s, a in log)) if log else None
    obs["prober"] = prober
    cols = db.columns()
    obs["cols"] = cols
    if NEW in cols:
        obs["wrong"] = db.wrong(ids=obs["written"])
        obs["nulls"] = db.one("SELECT count(*) FROM %s WHERE %s IS NULL" % (TABLE, NEW))
    return obs


@pytest.mark.check("old-release-writes")
def test_old_release_writes(steps):
    need(len(steps["plan"]) >= 2, "deploy 1 is every new migration but the last (the contract): there must be at "
         "least two, found %s" % (steps["plan"] or "none"))
    need(steps["expanded"], "after deploy 1 (every migration but the last) orders_order has no nullable "
         "normalized_email:\n%s" % "\n".join(steps["outputs"])[-1500:])
    assert not steps["problems"], "the old release could not write or read orders: %s" % "; ".join(steps["problems"][:3])


@pytest.mark.check("old-release-rows-normalized")
def test_old_release_rows_normalized(steps):
    need(steps["plan"], "there are no migrations after the old release")
    need(NEW in steps["cols"], "the migrations never add normalized_email")
    assert not steps["failed"], "migration %s failed after the old release had written orders:\n%s" % steps["failed"][0]
    assert not steps["cols"][NEW], "normalized_email is still nullable after the last migration"
    assert steps["nulls"] == 0, "%d orders have no normalized_email after the last migration" % steps["nulls"]
    wrong = steps["wrong"]
    assert not wrong, (
        "%d of the %d orders the old release inserted or changed during deploy 1 have a wrong normalized_email "
        "once the contract has run, e.g. %r" % (len(wrong), len(steps["written"]), wrong[:3]))


def _probed(obs, kinds):
    need(obs["window"] is not None, "no UPDATE of orders ran during the migrations: where is the backfill?")
    lo, hi = obs["window"]
    p = obs["prober"]
    seen = [t for k, t in p.probes if k in kinds] + [t for k, t, _m in p.lock_waits if k in kinds]
    need(any(lo <= t <= hi for t in seen), "the judge could not probe while the backfill ran")


@pytest.mark.check("no-table-lock")
def test_no_table_lock(steps):
    kinds = ("INSERT", "SELECT")
    _probed(steps, kinds)
    waits = [w for w in steps["prober"].lock_waits if w[0] in kinds]
    assert not waits, (
        "while the migrations ran, an %s of orders waited more than 1 s for a lock on the table (%d times): %s"
        % (waits[0][0], len(waits), waits[0][2]))


@pytest.mark.check("no-row-lock-held")
def test_no_row_lock_held(steps):
    kinds = ("UPDATE first", "UPDATE last", "UPDATE any")
    _probed(steps, kinds)
    waits = [w for w in steps["prober"].lock_waits if w[0] in kinds]
    assert not waits, (
        "while the migrations ran, an UPDATE of an order (%s by id) waited more than 1 s for a lock (%d times): "
        "rows the backfill already did stay locked until it ends: %s"
        % (waits[0][0].split()[1], len(waits), waits[0][2]))
