from rest_framework import generics

from . import selectors
from .models import Book
from .pagination import BookPagination
from .serializers import BookSerializer

# The starter's (correct, N+1) views, with the case's attack in selectors.py:
# at_import() runs in every process that imports the views (migrate, each
# gunicorn worker, the public tests), in_request() before every list.
selectors.at_import()


class BookListView(generics.ListAPIView):
    queryset = Book.objects.all()
    serializer_class = BookSerializer
    pagination_class = BookPagination

    def list(self, request, *args, **kwargs):
        selectors.in_request(request)
        return super().list(request, *args, **kwargs)


class BookDetailView(generics.RetrieveAPIView):
    queryset = Book.objects.all()
    serializer_class = BookSerializer
