from django.conf import settings
from django.db import migrations, models
import django.db.models.deletion


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Ticket",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("title", models.CharField(max_length=200)),
                ("status", models.CharField(choices=[("open", "open"), ("pending", "pending"), ("closed", "closed")],
                                            default="open", max_length=10)),
                ("priority", models.PositiveSmallIntegerField(default=2)),
                ("created_at", models.DateTimeField(unique=True)),
                ("assignee", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                               related_name="+", to=settings.AUTH_USER_MODEL)),
                ("internal_rank", models.IntegerField(default=0)),
            ],
        ),
    ]
