"""Hidden checks of on-commit: the task follows the commit, never a rollback; the API is unchanged."""

import pytest
from djgrade_judge import first_difference

from conftest import BULK_URL, ORDERS_URL, Shop, assert_no_anomaly, assert_sent_after_commit, describe, place
from orders.models import Batch, Order, OrderLine, Product


def placed_entry(shop, lines):
    return (shop.total(lines), len(lines))


@pytest.mark.check("placed-after-commit")
def test_placed_orders_sent_after_commit(app, customer, shop, broker):
    skus = shop.stocked(6)
    placed = {}
    for _ in range(4):
        lines = shop.lines(skus)
        mark = broker.mark()
        r = place(app, customer, Shop.payload(lines))
        assert r.status == 201, "POST %s answered %d: %r" % (ORDERS_URL, r.status, r.body[:300])
        oid = r.json()["id"]
        broker.drain()
        # Each order's message, checked as soon as its request is over.
        assert_sent_after_commit(broker, mark, {oid: placed_entry(shop, lines)}, "POST %s" % ORDERS_URL)
        placed[oid] = placed_entry(shop, lines)
    assert len(placed) == 4, "4 orders were placed but their answers named %d distinct ids: %s" % (
        len(placed), sorted(placed))


@pytest.mark.check("rollback-no-task")
def test_rolled_back_orders_send_nothing(app, customer, shop, broker):
    skus = shop.stocked(5)
    scarce = [shop.product(stock=shop.rng.randint(0, 3)) for _ in range(3)]
    mark = broker.mark()
    for sku in scarce:
        r = place(app, customer, Shop.payload(shop.failing(skus, sku)))
        assert r.status == 409, "an order out of stock answered %d, expected 409: %r" % (r.status, r.body[:300])
    r = place(app, customer, Shop.payload([(skus[0], 1), ("NOPE-%d" % shop.rng.randrange(1000), 1)]))
    assert r.status == 400, "an order for an unknown product answered %d, expected 400" % r.status
    # A message published late (a timer, a thread) must not slip past: settle first.
    broker.drain(settle=0.5)
    msgs = broker.since(mark)
    broker.done()
    assert_no_anomaly(broker, mark, "orders rolled back")
    assert not msgs, (
        "3 orders were rolled back (out of stock) and 1 refused; expected no process_order message, saw %d: %s"
        % (len(msgs), describe(msgs)))
    assert not Order.objects.exists(), "rolled-back orders left rows in orders_order"


@pytest.mark.check("bulk-after-commit")
def test_bulk_sent_after_commit(app, customer, shop, broker):
    skus = shop.stocked(6)
    orders = [shop.lines(skus) for _ in range(4)]
    mark = broker.mark()
    r = place(app, customer, {"orders": [Shop.payload(lines) for lines in orders]}, url=BULK_URL)
    assert r.status == 201, "POST %s answered %d: %r" % (BULK_URL, r.status, r.body[:300])
    body = r.json()
    ids = [o["id"] for o in body["placed"]]
    assert len(ids) == 4 and not body["failed"], "all 4 orders of the bulk upload should be placed: %r" % body
    broker.drain()
    placed = {oid: placed_entry(shop, lines) for oid, lines in zip(ids, orders)}
    assert_sent_after_commit(broker, mark, placed, "POST %s (4 orders, all placed)" % BULK_URL)


@pytest.mark.check("bulk-savepoint-rollback")
def test_bulk_skipped_orders_send_nothing(app, customer, shop, broker):
    skus = shop.stocked(6)
    scarce = [shop.product(stock=shop.rng.randint(0, 2)) for _ in range(2)]
    n = 6
    # Failures at random positions, one of them always the last order.
    fail_at = {n - 1, shop.rng.randrange(0, n - 2)}
    orders, plan = [], []
    scarce_iter = iter(scarce)
    for i in range(n):
        if i in fail_at:
            orders.append(shop.failing(skus, next(scarce_iter)))
            plan.append(False)
        else:
            orders.append(shop.lines(skus))
            plan.append(True)
    mark = broker.mark()
    r = place(app, customer, {"orders": [Shop.payload(lines) for lines in orders]}, url=BULK_URL)
    assert r.status == 201, "POST %s answered %d: %r" % (BULK_URL, r.status, r.body[:300])
    body = r.json()
    ids = [o["id"] for o in body["placed"]]
    assert [f["index"] for f in body["failed"]] == sorted(fail_at), (
        "POST %s of %d orders reported failed orders %r, expected the indexes %s (out of stock)"
        % (BULK_URL, n, body["failed"], sorted(fail_at)))
    ok_lines = [lines for lines, ok in zip(orders, plan) if ok]
    assert len(ids) == len(ok_lines), "POST %s of %d orders reported %d placed, expected %d" % (
        BULK_URL, n, len(ids), len(ok_lines))
    broker.drain(settle=0.5)
    placed = {oid: placed_entry(shop, lines) for oid, lines in zip(ids, ok_lines)}
    assert_sent_after_commit(
        broker, mark, placed,
        "POST %s (%d orders, %d skipped out of stock, each in its own savepoint)" % (BULK_URL, n, len(fail_at)))


@pytest.mark.check("responses-unchanged")
def test_responses_unchanged(app, customer, shop, broker):
    skus = shop.stocked(5)
    scarce = shop.product(stock=shop.rng.randint(0, 2))

    lines = shop.lines(skus, 3)
    r = place(app, customer, Shop.payload(lines))
    assert r.status == 201, "POST %s of an order in stock answered %d, expected 201: %r" % (
        ORDERS_URL, r.status, r.body[:300])
    got = r.json()
    got_id = got.get("id")
    want = shop.body(got.get("id"), lines)
    assert got == want, first_difference(got, want, "the answer to POST %s" % ORDERS_URL)
    assert Order.objects.filter(pk=got["id"]).exists(), (
        "POST %s answered order %r, which is not in the database" % (ORDERS_URL, got["id"]))

    r = place(app, customer, Shop.payload([(skus[1], 1), (scarce, shop.stock[scarce] + 1)]))
    want = {"detail": "Not enough stock for %s." % scarce}
    assert (r.status, r.json()) == (409, want), "an order out of stock answered %d %r, expected 409 %r" % (
        r.status, r.body[:300], want)

    r = place(app, customer, Shop.payload([("NOPE-1", 1)]))
    want = {"lines": ["Unknown product: NOPE-1."]}
    assert (r.status, r.json()) == (400, want), "an order for an unknown product answered %d %r, expected 400 %r" % (
        r.status, r.body[:300], want)
    r = place(app, customer, {"lines": []})
    assert r.status == 400, "an order without lines answered %d, expected 400: %r" % (r.status, r.body[:300])
    r = app.post(ORDERS_URL, json=Shop.payload(lines))
    assert r.status == 401, "an anonymous order answered %d, expected 401" % r.status

    good1, good2 = shop.lines(skus, 2), shop.lines(skus, 1)
    bad = [(scarce, shop.stock[scarce] + 2)]
    r = place(app, customer, {"orders": [Shop.payload(good1), Shop.payload(bad), Shop.payload(good2)]}, url=BULK_URL)
    assert r.status == 201, "POST %s of 3 orders (1 out of stock) answered %d, expected 201: %r" % (
        BULK_URL, r.status, r.body[:300])
    got = r.json()
    batch = Batch.objects.get()
    ids = [o.get("id") for o in got.get("placed", [])]
    assert len(ids) == 2, "POST %s of 3 orders (1 out of stock) reported %d placed, expected 2: %r" % (
        BULK_URL, len(ids), got)
    want = {
        "batch": batch.id,
        "placed": [shop.body(ids[0], good1), shop.body(ids[1], good2)],
        "failed": [{"index": 1, "detail": "Not enough stock for %s." % scarce}],
    }
    broker.drain()
    # The task checks judge the messages: here they are only the session's count of them.
    broker.done([got_id] + ids, "the check of the responses")
    assert got == want, first_difference(got, want, "the answer to POST %s" % BULK_URL)


@pytest.mark.check("orders-stored")
def test_orders_stored(app, customer, shop, broker):
    skus = shop.stocked(5)
    scarce = shop.product(stock=shop.rng.randint(1, 3))
    expected = {}

    lines = shop.lines(skus)
    r = place(app, customer, Shop.payload(lines))
    assert r.status == 201, "POST %s of an order in stock answered %d, expected 201: %r" % (
        ORDERS_URL, r.status, r.body[:300])
    expected[r.json()["id"]] = (shop.body(r.json()["id"], lines), None)
    r = place(app, customer, Shop.payload(shop.failing(skus, scarce)))
    assert r.status == 409, "an order out of stock answered %d, expected 409: %r" % (r.status, r.body[:300])

    orders = [shop.lines(skus), shop.failing(skus, scarce), shop.lines(skus)]
    r = place(app, customer, {"orders": [Shop.payload(o) for o in orders]}, url=BULK_URL)
    assert r.status == 201, "POST %s of 3 orders (1 out of stock) answered %d, expected 201: %r" % (
        BULK_URL, r.status, r.body[:300])
    body = r.json()
    batch_id = body["batch"]
    for o, lines in zip(body["placed"], [orders[0], orders[2]]):
        expected[o["id"]] = (shop.body(o["id"], lines), batch_id)
    broker.drain()
    broker.done(list(expected), "the check of the stored orders")

    stored = {}
    for order in Order.objects.prefetch_related("lines__product"):
        stored[order.id] = ({
            "id": order.id, "total_cents": order.total_cents,
            "lines": [{"sku": l.product.sku, "quantity": l.quantity, "unit_price_cents": l.unit_price_cents}
                      for l in order.lines.all()],
        }, order.batch_id)
        assert order.customer_id == customer.id, "order %d is stored for customer %s, expected %s (who placed it)" % (
            order.id, order.customer_id, customer.id)
    assert stored == expected, "orders in the database: %r, expected %r" % (stored, expected)
    n_lines = OrderLine.objects.count()
    assert n_lines == sum(len(b["lines"]) for b, _ in expected.values()), (
        "the database holds %d order lines, expected %d (the lines of the placed orders)"
        % (n_lines, sum(len(b["lines"]) for b, _ in expected.values())))
    stock = dict(Product.objects.values_list("sku", "stock"))
    assert stock == shop.stock, "stock left: %r, expected %r" % (stock, shop.stock)
    batch = Batch.objects.get()
    assert (batch.id, batch.placed, batch.failed) == (batch_id, 2, 1), (
        "the batch is stored as id %s, placed %s, failed %s; expected id %s (the answer's), placed 2, failed 1"
        % (batch.id, batch.placed, batch.failed, batch_id))
