# Expand: the column arrives nullable, so the old release (which does not
# know it) can keep inserting orders, and PostgreSQL adds it without
# rewriting the table.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0002_order_shipped_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="order",
            name="normalized_email",
            field=models.CharField(max_length=254, null=True),
        ),
    ]
