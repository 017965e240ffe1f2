# Expand, backfill and contract all in one migration: every step is right,
# but they run in one transaction, so the old release never gets a window in
# which the column exists and its INSERTs work, and the ALTER TABLE lock is
# held for the whole backfill.
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
            field=models.CharField(max_length=254, null=True),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="order",
            name="normalized_email",
            field=models.CharField(max_length=254),
        ),
    ]
