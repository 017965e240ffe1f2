# Contract, shipped with the next deploy, once no old-release process is
# left. Until then the old release kept writing: orders it inserted have no
# normalized_email, and orders whose customer_email it changed after 0004
# have a stale one.
#
# 1. Catch up: the same primary-key batches as 0004 (at most 1,000 rows
#    per UPDATE, each committed on its own), fixing every row whose value
#    is missing or no longer matches customer_email.
# 2. A plain SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE
#    lock (minutes on 30M rows, every order waiting). Instead add
#    CHECK (normalized_email IS NOT NULL) NOT VALID (instant), VALIDATE it
#    in its own transaction (it scans under a lock that lets reads and
#    writes through), then AlterField: PostgreSQL 12+ sees the validated
#    check and sets NOT NULL without scanning. Then drop the check.
#    atomic = False so that VALIDATE does not run behind the exclusive lock
#    taken by ADD CONSTRAINT.
from django.db import migrations, models, transaction
from django.db.models import Max, Min
from django.db.models.functions import Lower, Trim

BATCH = 1000
CHECK = "orders_order_normalized_email_not_null"


def catch_up(apps, schema_editor):
    Order = apps.get_model("orders", "Order")
    alias = schema_editor.connection.alias
    orders = Order.objects.using(alias)
    bounds = orders.aggregate(lo=Min("pk"), hi=Max("pk"))
    if bounds["lo"] is None:
        return
    normalized = Lower(Trim("customer_email"))
    for lo in range(bounds["lo"], bounds["hi"] + 1, BATCH):
        with transaction.atomic(using=alias):
            (
                orders.filter(pk__gte=lo, pk__lt=lo + BATCH)
                .exclude(normalized_email=normalized)
                .update(normalized_email=normalized)
            )


def on_postgres(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


noop = migrations.RunPython.noop


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("orders", "0004_backfill_normalized_email"),
    ]

    operations = [
        migrations.RunPython(catch_up, noop),
        migrations.RunPython(
            on_postgres(f"ALTER TABLE orders_order ADD CONSTRAINT {CHECK} CHECK (normalized_email IS NOT NULL) NOT VALID"),
            on_postgres(f"ALTER TABLE orders_order DROP CONSTRAINT IF EXISTS {CHECK}"),
        ),
        migrations.RunPython(on_postgres(f"ALTER TABLE orders_order VALIDATE CONSTRAINT {CHECK}"), noop),
        migrations.AlterField(
            model_name="order",
            name="normalized_email",
            field=models.CharField(max_length=254),
        ),
        migrations.RunPython(on_postgres(f"ALTER TABLE orders_order DROP CONSTRAINT {CHECK}"), noop),
    ]
