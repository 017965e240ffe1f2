from rest_framework import serializers

from .models import Product


class ProductSerializer(serializers.ModelSerializer):
    vendor = serializers.CharField(source="vendor.name", read_only=True)
    tags = serializers.SlugRelatedField(many=True, read_only=True, slug_field="name")

    class Meta:
        model = Product
        fields = ["id", "sku", "name", "price", "released_on", "brand", "vendor", "tags"]
