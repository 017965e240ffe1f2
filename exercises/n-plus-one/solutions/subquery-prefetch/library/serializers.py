from rest_framework import serializers

from .models import Author, Book


class AuthorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Author
        fields = ["id", "name"]


class BookSerializer(serializers.ModelSerializer):
    author = AuthorSerializer(read_only=True)
    tags = serializers.SerializerMethodField()
    review_count = serializers.IntegerField(source="reviews_total", read_only=True)

    class Meta:
        model = Book
        fields = ["id", "title", "published_on", "author", "tags", "review_count"]

    def get_tags(self, book):
        return [tag.name for tag in book.tag_list]
