# Backfill in raw SQL over primary-key ranges of 1,000: each UPDATE is
# small, no row crosses the network, and each range commits on its own
# (atomic = False, autocommit), so finished rows are not kept locked.
from django.db import migrations

BATCH = 1000
UPDATE = (
    "UPDATE orders_order SET normalized_email = lower(btrim(customer_email, ' ')) "
    "WHERE id >= %s AND id < %s AND (normalized_email IS NULL OR normalized_email <> lower(btrim(customer_email, ' ')))"
)


def backfill(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM orders_order")
        lo, hi = cursor.fetchone()
        if lo is None:
            return
        for start in range(lo, hi + 1, BATCH):
            cursor.execute(UPDATE, [start, start + BATCH])


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("orders", "0003_order_normalized_email"),
    ]

    operations = [
        # Reversing 0003 drops the column, so undoing the values is a no-op.
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
