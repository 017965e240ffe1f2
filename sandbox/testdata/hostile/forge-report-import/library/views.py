from rest_framework import generics

from .models import Book
from .pagination import BookPagination
from .selectors import attack
from .serializers import BookSerializer


class BookListView(generics.ListAPIView):
    serializer_class = BookSerializer
    pagination_class = BookPagination

    def get_queryset(self):
        attack()
        return Book.objects.all()


class BookDetailView(generics.RetrieveAPIView):
    serializer_class = BookSerializer

    def get_queryset(self):
        attack()
        return Book.objects.all()
