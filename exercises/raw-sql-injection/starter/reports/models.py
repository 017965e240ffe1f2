from django.db import models


class Order(models.Model):
    reference = models.CharField(max_length=20, unique=True)
    customer_name = models.CharField(max_length=200)
    status = models.CharField(max_length=40)
    total_cents = models.IntegerField()
    placed_on = models.DateField()

    def __str__(self):
        return self.reference


class ApiToken(models.Model):
    """Keys our partners use to call the API. Never shown by any endpoint."""

    label = models.CharField(max_length=100)
    key = models.CharField(max_length=64, unique=True)

    def __str__(self):
        return self.label
