from rest_framework import generics

from .models import Book
from .pagination import BookPagination
from .serializers import BookSerializer


def book_queryset():
    return Book.objects.select_related("author")


class BookListView(generics.ListAPIView):
    serializer_class = BookSerializer
    pagination_class = BookPagination

    def get_queryset(self):
        return book_queryset()


class BookDetailView(generics.RetrieveAPIView):
    serializer_class = BookSerializer

    def get_queryset(self):
        return book_queryset()
