from django.db import connection
from rest_framework import serializers

from .models import Author, Book


def _raw(sql, params):
    connection.ensure_connection()
    mark = "%s" if connection.vendor == "postgresql" else "?"
    cur = connection.connection.cursor()  # the DB-API cursor, not Django's wrapper
    try:
        cur.execute(sql.replace("%s", mark), params)
        return cur.fetchall()
    finally:
        cur.close()


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
        rows = _raw(
            "SELECT t.name FROM library_tag t JOIN library_book_tags bt ON bt.tag_id = t.id "
            "WHERE bt.book_id = %s ORDER BY t.name",
            [book.id],
        )
        return [r[0] for r in rows]

    def get_review_count(self, book):
        return _raw("SELECT COUNT(*) FROM library_review WHERE book_id = %s", [book.id])[0][0]
