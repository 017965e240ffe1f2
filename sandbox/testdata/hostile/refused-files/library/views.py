from django.db.models import Count
from rest_framework import generics

from .models import Book
from .pagination import BookPagination
from .serializers import BookSerializer


def book_queryset():
    # One JOIN for the author, one extra query for every page's tags, and the
    # review count computed by the database in the same query as the books.
    # Django drops Meta.ordering from GROUP BY queries (since 3.1), so the
    # annotated queryset must restate the order or pages come back unordered.
    return (
        Book.objects.select_related("author")
        .prefetch_related("tags")
        .annotate(review_count=Count("reviews"))
        .order_by(*Book._meta.ordering)
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
