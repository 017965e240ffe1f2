import datetime

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from library.models import Author, Book, Review, Tag


@pytest.fixture
def api_client(db):
    user = User.objects.create_user("reader", password="not-used")
    client = APIClient()
    # force_authenticate hands the user to the view directly: no query per
    # request, so query counts measure the endpoint alone.
    client.force_authenticate(user=user)
    return client


@pytest.fixture
def shelf(db):
    """Three books: one with two tags and reviews, one plain, one tagged."""
    ada = Author.objects.create(name="Ada Lovelace")
    alan = Author.objects.create(name="Alan Turing")
    django = Tag.objects.create(name="django")
    orm = Tag.objects.create(name="orm")

    notes = Book.objects.create(title="Notes on the Engine", published_on=datetime.date(2021, 5, 1), author=ada)
    notes.tags.set([orm, django])
    Review.objects.create(book=notes, rating=5, body="Timeless.")
    Review.objects.create(book=notes, rating=4)

    machines = Book.objects.create(title="Computing Machinery", published_on=datetime.date(2020, 1, 15), author=alan)

    tables = Book.objects.create(title="Tables of Numbers", published_on=datetime.date(2022, 3, 9), author=ada)
    tables.tags.set([django])
    Review.objects.create(book=tables, rating=3)
    return {"notes": notes, "machines": machines, "tables": tables}


@pytest.fixture
def add_books(db):
    """add_books(count) adds count more books, each with its own author, a tag and a review."""
    made = []

    def add(count):
        for _ in range(count):
            i = len(made)
            author = Author.objects.create(name=f"Author {i}")
            book = Book.objects.create(title=f"Extra {i}", published_on=datetime.date(2019, 1, 1 + i % 28), author=author)
            tag, _ = Tag.objects.get_or_create(name=f"extra-{i % 3}")
            book.tags.add(tag)
            Review.objects.create(book=book, rating=1 + i % 5)
            made.append(book)
        return made

    return add
