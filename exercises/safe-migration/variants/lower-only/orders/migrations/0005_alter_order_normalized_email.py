# Contract: only after every row is backfilled and the new release (which
# fills normalized_email on save) runs everywhere does the column become
# NOT NULL.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0004_backfill_normalized_email"),
    ]

    operations = [
        migrations.AlterField(
            model_name="order",
            name="normalized_email",
            field=models.CharField(max_length=254),
        ),
    ]
