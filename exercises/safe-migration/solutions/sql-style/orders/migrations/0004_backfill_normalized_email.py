# Backfill with one server-side loop over primary-key ranges of 1,000:
# each UPDATE is small and no row crosses the network.
from django.db import migrations

BACKFILL = """
DO $$
DECLARE
    lo bigint;
    hi bigint;
BEGIN
    SELECT min(id), max(id) INTO lo, hi FROM orders_order;
    WHILE lo <= hi LOOP
        UPDATE orders_order
           SET normalized_email = lower(btrim(customer_email, ' '))
         WHERE id >= lo AND id < lo + 1000 AND normalized_email IS NULL;
        lo := lo + 1000;
    END LOOP;
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0003_order_normalized_email"),
    ]

    operations = [
        # Reversing 0003 drops the column, so undoing the values is a no-op.
        migrations.RunSQL(BACKFILL, reverse_sql=migrations.RunSQL.noop),
    ]
