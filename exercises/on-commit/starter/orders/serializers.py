from rest_framework import serializers

from .models import Order, Product


class LineInSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=32)
    quantity = serializers.IntegerField(min_value=1, max_value=1000)


class OrderInSerializer(serializers.Serializer):
    lines = LineInSerializer(many=True, allow_empty=False, max_length=20)

    def validate_lines(self, lines):
        skus = {line["sku"] for line in lines}
        known = set(Product.objects.filter(sku__in=skus).values_list("sku", flat=True))
        unknown = sorted(skus - known)
        if unknown:
            raise serializers.ValidationError(f"Unknown product: {unknown[0]}.")
        return lines

    def line_pairs(self):
        return [(line["sku"], line["quantity"]) for line in self.validated_data["lines"]]


class BulkInSerializer(serializers.Serializer):
    orders = OrderInSerializer(many=True, allow_empty=False, max_length=50)

    def order_line_pairs(self):
        return [[(line["sku"], line["quantity"]) for line in o["lines"]] for o in self.validated_data["orders"]]


def order_body(order):
    """The JSON of a placed order."""
    return {
        "id": order.id,
        "total_cents": order.total_cents,
        "lines": [
            {"sku": line.product.sku, "quantity": line.quantity, "unit_price_cents": line.unit_price_cents}
            for line in order.lines.select_related("product").order_by("id")
        ],
    }
