"""Fixtures of the hidden checks: varied data and the expected responses.

The expected JSON is built here from what the fixture created, never by
running the project's serializer, so a change to the response is caught
whatever the serializer does.
"""

import datetime
import random

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from library.models import Author, Book, Review, Tag

PAGE_SIZE = 10
LIST_URL = "/api/books/"

# Lower-case letters only: SQLite and PostgreSQL (any collation) sort these
# the same way Python does.
_WORDS = [
    "async", "cache", "celery", "django", "forms", "orm", "postgres", "queries",
    "rest", "signals", "testing", "views", "admin", "auth", "migrations", "redis",
]
_TITLE_A = ["Practical", "Pragmatic", "Deep", "Gentle", "Advanced", "Modern", "Fast", "Clean"]
_TITLE_B = ["Querysets", "Serializers", "Migrations", "Views", "Signals", "Caching", "Models", "Routers"]
_NAMES = ["Grace", "Linus", "Barbara", "Ken", "Margaret", "Guido", "Radia", "Donald", "Frances", "Edsger"]


class Library:
    """Library creates books with varied authors, tags and reviews, and the JSON expected for them."""

    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.seed = seed
        self.expected = {}
        self.authors = []
        self.tags = []
        self.dates = []

    def _author(self):
        # Some authors write several books, so a wrong join shows up as a
        # wrong count or a duplicate.
        if not self.authors or self.rng.random() < 0.4:
            name = f"{self.rng.choice(_NAMES)} {self.seed}-{len(self.authors)}"
            self.authors.append(Author.objects.create(name=name))
        return self.rng.choice(self.authors)

    def _grow_tags(self, books_made):
        # The tag pool grows with the books, so work per tag grows too.
        want = 2 + books_made // 3
        while len(self.tags) < min(want, len(_WORDS) * 4):
            i = len(self.tags)
            name = _WORDS[i % len(_WORDS)] + "abcd"[i // len(_WORDS)] * (i // len(_WORDS))
            self.tags.append(Tag.objects.get_or_create(name=name)[0])

    def _date(self):
        # Every third book shares a date with an earlier one, so the id
        # tie-break of the ordering matters.
        if self.dates and self.rng.random() < 0.33:
            return self.rng.choice(self.dates)
        d = datetime.date(2001, 1, 1) + datetime.timedelta(days=self.rng.randrange(0, 8000))
        self.dates.append(d)
        return d

    def add(self, count, tags=None, reviews=None):
        """add creates count books; tags/reviews force how many each gets."""
        made = []
        for _ in range(count):
            self._grow_tags(len(self.expected))
            author = self._author()
            title = f"{self.rng.choice(_TITLE_A)} {self.rng.choice(_TITLE_B)} {self.seed}.{len(self.expected)}"
            book = Book.objects.create(title=title, published_on=self._date(), author=author)
            n_tags = tags if tags is not None else self.rng.choice([0, 1, 1, 2, 3, 4])
            chosen = self.rng.sample(self.tags, min(n_tags, len(self.tags)))
            book.tags.set(chosen)
            n_reviews = reviews if reviews is not None else self.rng.choice([0, 1, 2, 3, 5, 8])
            Review.objects.bulk_create(
                [Review(book=book, rating=self.rng.randint(1, 5), body="r" * self.rng.randint(0, 40)) for _ in range(n_reviews)]
            )
            self.expected[book.id] = {
                "id": book.id,
                "title": title,
                "published_on": book.published_on.isoformat(),
                "author": {"id": author.id, "name": author.name},
                "tags": sorted(t.name for t in chosen),
                "review_count": n_reviews,
            }
            made.append(book)
        return made

    def ordered(self):
        """ordered lists the expected books newest first, ties by id."""
        return sorted(self.expected.values(), key=lambda b: (-datetime.date.fromisoformat(b["published_on"]).toordinal(), b["id"]))

    def page(self, number):
        """page is the exact JSON body of GET /api/books/?page=number."""
        books = self.ordered()
        pages = max(1, -(-len(books) // PAGE_SIZE))
        base = "http://testserver" + LIST_URL
        nxt = f"{base}?page={number + 1}" if number < pages else None
        if number <= 1:
            prev = None
        elif number == 2:
            prev = base
        else:
            prev = f"{base}?page={number - 1}"
        return {
            "count": len(books),
            "next": nxt,
            "previous": prev,
            "results": books[(number - 1) * PAGE_SIZE:number * PAGE_SIZE],
        }


@pytest.fixture
def reader(db):
    """reader is an APIClient whose requests run no authentication query."""
    user = User.objects.create_user("hidden-reader", password="unused")
    client = APIClient()
    client.force_authenticate(user=user)
    return client


@pytest.fixture
def make_library(db):
    """make_library(seed) returns an empty Library that fills the test database."""
    return Library

