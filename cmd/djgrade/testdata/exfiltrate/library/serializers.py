from rest_framework import serializers

from .models import Author, Book


class AuthorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Author
        fields = ["id", "name"]


class BookSerializer(serializers.ModelSerializer):
    author = AuthorSerializer(read_only=True)
    tags = serializers.SlugRelatedField(many=True, read_only=True, slug_field="name")
    # Filled by the views' annotate(Count("reviews")).
    review_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Book
        fields = ["id", "title", "published_on", "author", "tags", "review_count"]
