# Backfill by streaming rows with a server-side cursor and writing them back
# with bulk_update, 500 at a time: memory stays flat and each UPDATE is small.
# atomic = False: each bulk_update commits on its own, so rows already done
# are not kept locked (and the old release's UPDATEs of them not stalled)
# until the whole table is through.
from django.db import migrations

CHUNK = 500


def backfill(apps, schema_editor):
    Order = apps.get_model("orders", "Order")
    orders = Order.objects.using(schema_editor.connection.alias)
    batch = []
    for order in orders.filter(normalized_email__isnull=True).only("pk", "customer_email").iterator(chunk_size=CHUNK):
        order.normalized_email = order.customer_email.strip().lower()
        batch.append(order)
        if len(batch) == CHUNK:
            orders.bulk_update(batch, ["normalized_email"])
            batch = []
    if batch:
        orders.bulk_update(batch, ["normalized_email"])


def unfill(apps, schema_editor):
    # Put the column back the way 0003 left it, in the same chunks.
    Order = apps.get_model("orders", "Order")
    orders = Order.objects.using(schema_editor.connection.alias)
    while True:
        pks = list(orders.filter(normalized_email__isnull=False).values_list("pk", flat=True)[:CHUNK])
        if not pks:
            break
        orders.filter(pk__in=pks).update(normalized_email=None)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("orders", "0003_order_normalized_email"),
    ]

    operations = [
        migrations.RunPython(backfill, unfill),
    ]
