from rest_framework import serializers

from .models import Order, OrderLine, Product


class CartItemSerializer(serializers.Serializer):
    product = serializers.IntegerField(min_value=1)
    quantity = serializers.IntegerField(min_value=1, max_value=100)


class CartSerializer(serializers.Serializer):
    """A cart: {"items": [{"product": <id>, "quantity": <n>}, ...]}."""

    items = CartItemSerializer(many=True, allow_empty=False)

    def validate_items(self, items):
        ids = [item["product"] for item in items]
        if len(set(ids)) != len(ids):
            raise serializers.ValidationError("A product may appear only once in a cart.")
        known = set(Product.objects.filter(pk__in=ids).values_list("pk", flat=True))
        unknown = [pk for pk in ids if pk not in known]
        if unknown:
            raise serializers.ValidationError(f"Unknown product {unknown[0]}.")
        return items


class OrderLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderLine
        fields = ["product", "quantity", "price_cents"]


class OrderSerializer(serializers.ModelSerializer):
    customer = serializers.CharField(source="customer.username")
    items = OrderLineSerializer(source="lines", many=True)

    class Meta:
        model = Order
        fields = ["id", "customer", "items", "total_cents"]
