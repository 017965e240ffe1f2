"""WRONG on purpose (raw-immediate + a bulky message to slow the judge's worker): publishes process_order BEFORE the COMMIT of the order's transaction.

The whole transaction is sent as one simple-query message that starts with BEGIN and
makes every constraint IMMEDIATE, so the judge's deferred triggers fire inside that
message (now() = statement_timestamp(): "at commit" per the judge). The task is then
published while the transaction is still open, and only then is COMMIT sent.
"""

from django.db import connection

from .models import Batch, Order, Product
from .tasks import process_order


class OutOfStock(Exception):
    def __init__(self, sku):
        self.sku = sku
        super().__init__(f"Not enough stock for {sku}.")


def _nextval(cur, table):
    cur.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [table])
    return cur.fetchone()[0]


def _plan(lines, stock, products):
    """Raises OutOfStock at the first line short of stock; else deducts from stock (a dict)."""
    left = dict(stock)
    total = 0
    for sku, quantity in lines:
        if left[sku] < quantity:
            raise OutOfStock(sku)
        left[sku] -= quantity
        total += quantity * products[sku].price_cents
    stock.update(left)
    return total


def _order_sql(cur, oid, customer, batch_id, lines, total, products):
    m = cur.cursor.mogrify
    out = [m("INSERT INTO orders_order (id, customer_id, batch_id, created_at, total_cents) "
             "VALUES (%s, %s, %s, now(), %s)", [oid, customer.pk, batch_id, total]).decode()]
    for sku, quantity in lines:
        p = products[sku]
        out.append(m("INSERT INTO orders_orderline (order_id, product_id, quantity, unit_price_cents) "
                     "VALUES (%s, %s, %s, %s)", [oid, p.pk, quantity, p.price_cents]).decode())
        out.append(m("UPDATE orders_product SET stock = stock - %s WHERE id = %s", [quantity, p.pk]).decode())
    return out


def _run(cur, statements, ids):
    cur.execute("; ".join(["BEGIN", "SET CONSTRAINTS ALL IMMEDIATE"] + statements))
    try:
        # A bulky message of another task, ahead of ours in the FIFO queue: the
        # judge's (single) worker is busy decoding it while we COMMIT.
        process_order.app.send_task("shop.cache.warm", args=["x" * 3_000_000])
        for oid in ids:
            process_order.delay(oid)   # still inside the open transaction
    finally:
        cur.execute("COMMIT")


def _reference_place_order(customer, lines, batch=None):
    from functools import partial
    from django.db import transaction
    from .models import OrderLine
    with transaction.atomic():
        order = Order.objects.create(customer=customer, batch=batch)
        total = 0
        for sku, quantity in lines:
            product = Product.objects.select_for_update().get(sku=sku)
            if product.stock < quantity:
                raise OutOfStock(sku)
            product.stock -= quantity
            product.save(update_fields=["stock"])
            OrderLine.objects.create(order=order, product=product, quantity=quantity, unit_price_cents=product.price_cents)
            total += quantity * product.price_cents
        order.total_cents = total
        order.save(update_fields=["total_cents"])
        transaction.on_commit(partial(process_order.delay, order.id))
    return order


def _reference_place_batch(customer, orders):
    from django.db import transaction
    with transaction.atomic():
        batch = Batch.objects.create(customer=customer)
        placed, failed = [], []
        for index, lines in enumerate(orders):
            try:
                placed.append(_reference_place_order(customer, lines, batch=batch))
            except OutOfStock as e:
                failed.append({"index": index, "detail": str(e)})
        batch.placed = len(placed)
        batch.failed = len(failed)
        batch.save(update_fields=["placed", "failed"])
    return batch, placed, failed


def place_order(customer, lines, batch=None):
    if connection.vendor != "postgresql":   # local SQLite: behave
        return _reference_place_order(customer, lines, batch)
    products = {p.sku: p for p in Product.objects.filter(sku__in=[s for s, _ in lines])}
    stock = {s: p.stock for s, p in products.items()}
    total = _plan(lines, stock, products)
    with connection.cursor() as cur:
        oid = _nextval(cur, "orders_order")
        _run(cur, _order_sql(cur, oid, customer, None, lines, total, products), [oid])
    return Order.objects.get(pk=oid)


def place_batch(customer, orders):
    if connection.vendor != "postgresql":
        return _reference_place_batch(customer, orders)
    skus = {s for lines in orders for s, _ in lines}
    products = {p.sku: p for p in Product.objects.filter(sku__in=skus)}
    stock = {s: p.stock for s, p in products.items()}
    with connection.cursor() as cur:
        bid = _nextval(cur, "orders_batch")
        statements, placed_ids, failed = [], [], []
        for index, lines in enumerate(orders):
            try:
                total = _plan(lines, stock, products)
            except OutOfStock as e:
                failed.append({"index": index, "detail": str(e)})
                continue
            oid = _nextval(cur, "orders_order")
            statements += _order_sql(cur, oid, customer, bid, lines, total, products)
            placed_ids.append(oid)
        statements.insert(0, cur.cursor.mogrify(
            "INSERT INTO orders_batch (id, customer_id, created_at, placed, failed) VALUES (%s, %s, now(), %s, %s)",
            [bid, customer.pk, len(placed_ids), len(failed)]).decode())
        _run(cur, statements, placed_ids)
    return Batch.objects.get(pk=bid), [Order.objects.get(pk=i) for i in placed_ids], failed
