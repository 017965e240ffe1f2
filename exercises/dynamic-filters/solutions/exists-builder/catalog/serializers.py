from rest_framework import serializers

from .models import Product


class ProductSerializer(serializers.ModelSerializer):
    vendor = serializers.SerializerMethodField()
    tags = serializers.SerializerMethodField()

    class Meta:
        model = Product
        fields = ["id", "sku", "name", "price", "released_on", "brand", "vendor", "tags"]

    def get_vendor(self, product):
        return product.vendor.name

    def get_tags(self, product):
        return sorted(t.name for t in product.tags.all())
