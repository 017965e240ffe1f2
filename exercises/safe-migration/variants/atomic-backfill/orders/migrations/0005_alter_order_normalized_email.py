# Contract, shipped with the next deploy, once no old-release process is
# left. First catch up with what the old release wrote after 0004 (orders
# without normalized_email, orders whose customer_email changed): stream
# the whole table again and update, in chunks of 500, only the rows whose
# value is missing or stale; each chunk commits on its own.
# Then NOT NULL without a long exclusive lock: a NOT VALID check (instant),
# VALIDATE (scans under a lock that lets writes through, in its own
# transaction: atomic = False), SET NOT NULL (PostgreSQL 12+ trusts the
# validated check and does not scan), drop the check.
from django.db import migrations, models
from django.db.models.functions import Lower, Trim

CHUNK = 500
CHECK = "orders_order_normalized_email_nn"


def catch_up(apps, schema_editor):
    # The stream only finds the stale rows; the UPDATE recomputes the value
    # from customer_email as it is then, so a row the new release changed
    # since the stream's snapshot is not overwritten with an old value.
    Order = apps.get_model("orders", "Order")
    orders = Order.objects.using(schema_editor.connection.alias)
    normalized = Lower(Trim("customer_email"))
    stale = []
    rows = orders.values_list("pk", "customer_email", "normalized_email").order_by("pk")
    for pk, email, value in rows.iterator(chunk_size=CHUNK):
        if value != email.strip().lower():
            stale.append(pk)
        if len(stale) == CHUNK:
            orders.filter(pk__in=stale).update(normalized_email=normalized)
            stale = []
    if stale:
        orders.filter(pk__in=stale).update(normalized_email=normalized)


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
                    f"ALTER TABLE orders_order ADD CONSTRAINT {CHECK} CHECK (normalized_email IS NOT NULL) NOT VALID",
                    reverse_sql=f"ALTER TABLE orders_order DROP CONSTRAINT IF EXISTS {CHECK}",
                ),
                migrations.RunSQL(f"ALTER TABLE orders_order VALIDATE CONSTRAINT {CHECK}", migrations.RunSQL.noop),
                migrations.RunSQL(
                    "ALTER TABLE orders_order ALTER COLUMN normalized_email SET NOT NULL",
                    reverse_sql="ALTER TABLE orders_order ALTER COLUMN normalized_email DROP NOT NULL",
                ),
                migrations.RunSQL(f"ALTER TABLE orders_order DROP CONSTRAINT {CHECK}", migrations.RunSQL.noop),
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
