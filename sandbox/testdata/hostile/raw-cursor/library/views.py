from rest_framework import generics

from .models import Book
from .pagination import BookPagination
from .serializers import BookSerializer

# Variant: the author is joined, but tags and review counts are still read
# per book, on the raw DB-API connection underneath Django, where no
# Django-side query counter (assertNumQueries, CaptureQueriesContext, an
# execute_wrapper) can see them.


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
