# Contract without a long exclusive lock: a NOT VALID check is instant, its
# VALIDATE scans the table under a lock that lets writes through, and then
# SET NOT NULL trusts the validated check instead of scanning again. Each
# statement commits on its own (atomic = False).
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("orders", "0004_backfill_normalized_email"),
    ]

    operations = [
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
