from rest_framework import generics

from .models import Item
from .serializers import ItemSerializer


class ItemListView(generics.ListAPIView):
    queryset = Item.objects.order_by("name")
    serializer_class = ItemSerializer
