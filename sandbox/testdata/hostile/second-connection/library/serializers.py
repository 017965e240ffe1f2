import threading

from django.conf import settings
from django.db import connection
from rest_framework import serializers

from .models import Author, Book

# The per-book queries run on a second psycopg2 connection, opened with the
# app's own credentials from settings.DATABASES: Django never sees them.
_local = threading.local()


def _side():
    conn = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        import psycopg2

        db = settings.DATABASES["default"]
        conn = psycopg2.connect(host=db["HOST"], port=db["PORT"], dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"])
        conn.autocommit = True
        _local.conn = conn
    return conn


def _rows(sql, params):
    if connection.vendor != "postgresql":
        with connection.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    with _side().cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


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
        return [r[0] for r in _rows(
            "SELECT t.name FROM library_tag t JOIN library_book_tags bt ON bt.tag_id = t.id "
            "WHERE bt.book_id = %s ORDER BY t.name", [book.id])]

    def get_review_count(self, book):
        return _rows("SELECT COUNT(*) FROM library_review WHERE book_id = %s", [book.id])[0][0]
