# Streams the rows but saves them one at a time: one UPDATE per order.
from django.db import migrations


def backfill(apps, schema_editor):
    Order = apps.get_model("orders", "Order")
    for order in Order.objects.using(schema_editor.connection.alias).iterator(chunk_size=1000):
        order.normalized_email = order.customer_email.strip().lower()
        order.save(update_fields=["normalized_email"])


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0003_order_normalized_email"),
    ]

    operations = [
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
