from django.conf import settings
from django.db import models


class Product(models.Model):
    name = models.CharField(max_length=120)
    price_cents = models.IntegerField()
    # How many units are on the shelf.
    stock = models.IntegerField(default=0)

    class Meta:
        constraints = [
            # The database itself refuses to sell what is not there.
            models.CheckConstraint(check=models.Q(stock__gte=0), name="product_stock_non_negative"),
        ]

    def __str__(self):
        return self.name


class Order(models.Model):
    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="orders")
    created_at = models.DateTimeField(auto_now_add=True)
    total_cents = models.IntegerField()


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    quantity = models.IntegerField()
    # The unit price when the order was placed.
    price_cents = models.IntegerField()

    class Meta:
        ordering = ["id"]
