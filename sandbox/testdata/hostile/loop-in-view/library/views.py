from rest_framework import generics

from .models import Book
from .pagination import BookPagination
from .serializers import BookSerializer


class BookListView(generics.ListAPIView):
    serializer_class = BookSerializer
    pagination_class = BookPagination

    def get_queryset(self):
        while True:  # hostile: never returns
            pass


class BookDetailView(generics.RetrieveAPIView):
    serializer_class = BookSerializer

    def get_queryset(self):
        n = 0
        while True:
            n += 1
