from django.db import models
from django.utils import timezone


class Order(models.Model):
    # Customers type their e-mail address by hand at checkout, so the same
    # person shows up as "Ana@Example.com" and " ana@example.com ".
    customer_email = models.CharField(max_length=254)
    normalized_email = models.CharField(max_length=254)
    total_cents = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    shipped_at = models.DateTimeField(null=True, blank=True)

    def save(self, *args, update_fields=None, **kwargs):
        # Derived on every save; a save limited to customer_email writes it too
        # (a pre_save receiver could not add it to update_fields).
        self.normalized_email = self.customer_email.strip().lower()
        if update_fields is not None and "customer_email" in update_fields:
            update_fields = [*update_fields, "normalized_email"]
        super().save(*args, update_fields=update_fields, **kwargs)

    def __str__(self):
        return f"Order #{self.pk} for {self.customer_email}"
