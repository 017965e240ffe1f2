from django.db.models import Count
from rest_framework import generics

from .models import Book
from .pagination import BookPagination
from .serializers import BookSerializer


def book_queryset():
    # Variant: the annotation turns the query into a GROUP BY, and Django
    # leaves Meta.ordering out of those, so the list loses its order.
    return (
        Book.objects.select_related("author")
        .prefetch_related("tags")
        .annotate(review_count=Count("reviews"))
    )


class BookListView(generics.ListAPIView):
    serializer_class = BookSerializer
    pagination_class = BookPagination

    def get_queryset(self):
        return book_queryset()


class BookDetailView(generics.RetrieveAPIView):
    serializer_class = BookSerializer

    def get_queryset(self):
        return book_queryset()
