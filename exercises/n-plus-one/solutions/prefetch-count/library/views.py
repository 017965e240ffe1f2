from rest_framework import generics

from .models import Book
from .pagination import BookPagination
from .serializers import BookSerializer

BOOKS = Book.objects.select_related("author").prefetch_related("tags", "reviews")


class BookListView(generics.ListAPIView):
    queryset = BOOKS
    serializer_class = BookSerializer
    pagination_class = BookPagination


class BookDetailView(generics.RetrieveAPIView):
    queryset = BOOKS
    serializer_class = BookSerializer
