from django.db.models import Count
from rest_framework import generics

from .models import Book
from .pagination import BookPagination
from .serializers import BookSerializer


class BookListView(generics.ListAPIView):
    serializer_class = BookSerializer
    pagination_class = BookPagination

    def get_queryset(self):
        return (
            Book.objects.select_related("author")
            .prefetch_related("tags")
            .annotate(review_count=Count("reviews"))
            .order_by(*Book._meta.ordering)
        )


# Variant: only the list was optimised; the detail view keeps the plain
# queryset and the serializer papers over the missing annotation.
class BookDetailView(generics.RetrieveAPIView):
    queryset = Book.objects.all()
    serializer_class = BookSerializer
