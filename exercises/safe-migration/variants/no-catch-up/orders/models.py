from django.db import models
from django.utils import timezone


def normalize_email(value):
    """The form we match customers on: surrounding spaces off, lower case."""
    return value.strip().lower()


class Order(models.Model):
    # Customers type their e-mail address by hand at checkout, so the same
    # person shows up as "Ana@Example.com" and " ana@example.com ".
    customer_email = models.CharField(max_length=254)
    normalized_email = models.CharField(max_length=254)
    total_cents = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    shipped_at = models.DateTimeField(null=True, blank=True)

    def save(self, *args, **kwargs):
        # Derived on every save so it can never drift from customer_email.
        self.normalized_email = normalize_email(self.customer_email)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "customer_email" in update_fields:
            kwargs["update_fields"] = {*update_fields, "normalized_email"}
        super().save(*args, **kwargs)

    def __str__(self):
        return f"Order #{self.pk} for {self.customer_email}"
