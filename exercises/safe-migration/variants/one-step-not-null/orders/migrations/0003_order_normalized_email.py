# Adds the column NOT NULL with a throw-away default and backfills it in the
# same migration: the default is dropped right after the ADD COLUMN, so the
# old release's INSERTs fail from here on, and the table stays locked until
# the backfill commits.
from django.db import migrations, models
from django.db.models.functions import Lower, Trim

BATCH = 1000


def backfill(apps, schema_editor):
    Order = apps.get_model("orders", "Order")
    orders = Order.objects.using(schema_editor.connection.alias)
    last_pk = 0
    while True:
        pks = list(orders.filter(pk__gt=last_pk).order_by("pk").values_list("pk", flat=True)[:BATCH])
        if not pks:
            break
        orders.filter(pk__in=pks).update(normalized_email=Lower(Trim("customer_email")))
        last_pk = pks[-1]


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0002_order_shipped_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="order",
            name="normalized_email",
            field=models.CharField(default="", max_length=254),
            preserve_default=False,
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
