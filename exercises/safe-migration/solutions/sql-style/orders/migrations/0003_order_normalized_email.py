# Expand, spelled out in SQL: a nullable column is a catalogue-only change
# in PostgreSQL, and the old release's INSERTs that omit it keep working.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0002_order_shipped_at"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    "ALTER TABLE orders_order ADD COLUMN normalized_email varchar(254) NULL",
                    reverse_sql="ALTER TABLE orders_order DROP COLUMN normalized_email",
                ),
            ],
            state_operations=[
                migrations.AddField(
                    model_name="order",
                    name="normalized_email",
                    field=models.CharField(max_length=254, null=True),
                ),
            ],
        ),
    ]
