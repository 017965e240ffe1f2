from rest_framework import generics

from .models import Book
from .pagination import BookPagination
from .serializers import BookSerializer


class BookListView(generics.ListAPIView):
    queryset = Book.objects.select_related("author")
    serializer_class = BookSerializer
    pagination_class = BookPagination


class BookDetailView(generics.RetrieveAPIView):
    queryset = Book.objects.select_related("author")
    serializer_class = BookSerializer
