from rest_framework import generics

from .pagination import SearchPagination
from .search import search_products
from .serializers import ProductSerializer


class ProductSearchView(generics.GenericAPIView):
    """POST /api/products/search/ (?page=N): the products matching the JSON body, ten per page."""

    serializer_class = ProductSerializer
    pagination_class = SearchPagination

    def post(self, request):
        queryset = search_products(request.data)
        page = self.paginate_queryset(queryset)
        serializer = self.get_serializer(page, many=True)
        return self.get_paginated_response(serializer.data)
