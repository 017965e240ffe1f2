from django.db import models
from django.db.models.signals import pre_save
from django.dispatch import receiver
from django.utils import timezone


class Order(models.Model):
    # Customers type their e-mail address by hand at checkout, so the same
    # person shows up as "Ana@Example.com" and " ana@example.com ".
    customer_email = models.CharField(max_length=254)
    normalized_email = models.CharField(max_length=254)
    total_cents = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    shipped_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"Order #{self.pk} for {self.customer_email}"


@receiver(pre_save, sender=Order)
def fill_normalized_email(sender, instance, **kwargs):
    instance.normalized_email = instance.customer_email.strip().lower()
