# Contract, shipped with the next deploy once the old release is gone.
# First the same range-by-range UPDATE as 0004 catches up with what the old
# release wrote in between (orders without normalized_email, orders whose
# customer_email changed). Then NOT NULL without a long exclusive lock: a
# NOT VALID check is instant, its VALIDATE scans the table under a lock that
# lets writes through, and then SET NOT NULL trusts the validated check
# instead of scanning again. Each statement commits on its own
# (atomic = False).
from django.db import migrations, models

BATCH = 1000
UPDATE = (
    "UPDATE orders_order SET normalized_email = lower(btrim(customer_email, ' ')) "
    "WHERE id >= %s AND id < %s AND (normalized_email IS NULL OR normalized_email <> lower(btrim(customer_email, ' ')))"
)


def catch_up(apps, schema_editor):
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
        ("orders", "0004_backfill_normalized_email"),
    ]

    operations = [
        migrations.RunPython(catch_up, migrations.RunPython.noop),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    [
                        "ALTER TABLE orders_order ADD CONSTRAINT orders_order_normalized_email_nn "
                        "CHECK (normalized_email IS NOT NULL) NOT VALID",
                        "ALTER TABLE orders_order VALIDATE CONSTRAINT orders_order_normalized_email_nn",
                        "ALTER TABLE orders_order ALTER COLUMN normalized_email SET NOT NULL",
                        "ALTER TABLE orders_order DROP CONSTRAINT orders_order_normalized_email_nn",
                    ],
                    reverse_sql="ALTER TABLE orders_order ALTER COLUMN normalized_email DROP NOT NULL",
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="order",
                    name="normalized_email",
                    field=models.CharField(max_length=254),
                ),
            ],
        ),
    ]
