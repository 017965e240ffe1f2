"""Hidden checks, one buyer at a time: the checkout's answers and effects are unchanged."""

import pytest
from conftest import URL, cart, expected_order, is_conflict_body

from shop.models import Order, OrderLine, Product


def make_products(rng, n, stock=None):
    # At least 10 each: the carts of test_purchase_response take at most 8
    # units of one product, and its last purchase needs at least one left.
    tag = rng.randrange(1000, 9999)
    return [
        Product.objects.create(
            name="Item %d-%d" % (tag, i), price_cents=rng.randrange(100, 5000),
            stock=stock if stock is not None else rng.randint(10, 20))
        for i in range(n)
    ]


def stocks(products):
    return {p.pk: Product.objects.get(pk=p.pk).stock for p in products}


def lines_of(order_id):
    return sorted(OrderLine.objects.filter(order_id=order_id).values_list("product_id", "quantity", "price_cents"))


@pytest.mark.check("purchase-response")
def test_purchase_response(app, make_user, rng):
    buyer = make_user("shopper%d" % rng.randrange(1000))
    products = make_products(rng, 5)
    prices = {p.pk: p.price_cents for p in products}
    left = {p.pk: p.stock for p in products}
    by_id = sorted(products, key=lambda p: p.pk)
    carts = [
        # Descending ids: an answer that lists lines in id order is caught.
        [(by_id[4].pk, rng.randint(1, 3)), (by_id[2].pk, rng.randint(1, 3)), (by_id[0].pk, 1)],
        [(p.pk, rng.randint(1, 3)) for p in rng.sample(products, 2)],
        [(by_id[rng.randrange(5)].pk, rng.randint(1, 2))],
        [(by_id[1].pk, 2), (by_id[3].pk, 1)],
    ]
    for items in carts:
        response = app.post(URL, json=cart(*items), user=buyer)
        assert response.status == 201, "POST %s %r answered %d, expected 201: %r" % (
            URL, items, response.status, response.body[:300])
        body = response.json()
        order_id = body.get("id") if isinstance(body, dict) else None
        want = expected_order(order_id, buyer.username, items, prices)
        assert body == want, "the 201 body for cart %r is %r, expected %r" % (items, body, want)
        order = Order.objects.filter(pk=order_id).first()
        assert order is not None, "the answer names order %r, which is not in the database" % order_id
        assert order.customer_id == buyer.pk and order.total_cents == want["total_cents"], \
            "order %d: customer %r, total %r; expected %r, %r" % (
                order_id, order.customer_id, order.total_cents, buyer.pk, want["total_cents"])
        assert lines_of(order_id) == sorted((pk, q, prices[pk]) for pk, q in items), \
            "order %d holds lines %r for cart %r" % (order_id, lines_of(order_id), items)
        for pk, q in items:
            left[pk] -= q
        assert stocks(products) == left, "after cart %r the stock is %r, expected %r" % (items, stocks(products), left)

    # The last units of a product can be bought, down to zero.
    last = by_id[rng.randrange(5)]
    response = app.post(URL, json=cart((last.pk, left[last.pk])), user=buyer)
    assert response.status == 201, "buying the %d units left of a product answered %d: %r" % (
        left[last.pk], response.status, response.body[:300])
    left_before, left[last.pk] = left[last.pk], 0
    assert stocks(products) == left, "after buying the last %d units of product %d the stock is %r, expected %r" % (
        left_before, last.pk, stocks(products), left)
    orders = Order.objects.count()
    assert orders == len(carts) + 1, "after %d successful purchases the database holds %d orders, expected %d" % (
        len(carts) + 1, orders, len(carts) + 1)


@pytest.mark.check("sold-out-refused")
def test_sold_out_refused(app, make_user, rng):
    buyer = make_user("shopper%d" % rng.randrange(1000))
    short, b, c = make_products(rng, 3)
    short.stock = rng.randint(1, 3)
    short.save()
    empty = make_products(rng, 1, stock=0)[0]
    products = [short, b, c, empty]
    before = stocks(products)
    s = short.stock
    attempts = [
        ([(b.pk, 1), (short.pk, s + 1)], short),
        ([(short.pk, s + rng.randint(1, 3)), (c.pk, 1)], short),
        ([(c.pk, 2), (short.pk, s + 1), (b.pk, 3)], short),
        ([(b.pk, 1), (empty.pk, 1)], empty),
        ([(empty.pk, 1), (c.pk, 1)], empty),
    ]
    for items, culprit in attempts:
        response = app.post(URL, json=cart(*items), user=buyer)
        assert response.status == 409, "cart %r (product %d has %d left) answered %d, expected 409: %r" % (
            items, culprit.pk, before[culprit.pk], response.status, response.body[:300])
        body = response.json()
        assert is_conflict_body(body, {culprit.pk}), \
            "the 409 body for cart %r is %r, expected {\"detail\": <text>, \"product\": %d}" % (items, body, culprit.pk)
        assert stocks(products) == before, "a refused cart %r changed the stock: %r, was %r" % (
            items, stocks(products), before)
        assert not Order.objects.exists() and not OrderLine.objects.exists(), \
            "a refused cart %r left an order in the database" % (items,)

    # Not over-strict: exactly what is left can be sold.
    response = app.post(URL, json=cart((short.pk, s), (b.pk, 1)), user=buyer)
    assert response.status == 201, "buying the %d units left answered %d: %r" % (s, response.status, response.body[:300])


@pytest.mark.check("bad-cart-refused")
def test_bad_cart_refused(app, make_user, rng):
    buyer = make_user("shopper%d" % rng.randrange(1000))
    products = make_products(rng, 2)
    p, q = products
    before = stocks(products)
    bad = [
        {"items": []},
        {},
        cart((p, 0)),
        cart((p, -1)),
        cart((p, 1), (q, 1), (p, 2)),
        cart((max(p.pk, q.pk) + 1000, 1)),
        cart((q, 1), (max(p.pk, q.pk) + 1000, 1)),
    ]
    for body in bad:
        response = app.post(URL, json=body, user=buyer)
        assert response.status == 400, "POST %s %r answered %d, expected 400: %r" % (
            URL, body, response.status, response.body[:300])
    assert app.post(URL, json=cart((p, 1))).status in (401, 403), "an anonymous purchase was not refused"
    assert stocks(products) == before and not Order.objects.exists(), "a refused cart changed the database"
