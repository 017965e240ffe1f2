"""Fixtures of the hidden checks: the candidate's project served, varied data, expected responses.

The judge seeds the database through the exercise's own models (committed,
so the candidate's server sees it), calls the server over HTTP, and builds
the expected JSON here from what it created, never by running any
serializer: a change to the response is caught whatever the candidate's
code does.
"""

import datetime

import pytest
from djgrade_judge import freeze_schema

from library.models import Author, Book, Review, Tag

PAGE_SIZE = 10
LIST_URL = "/api/books/"

# Lower-case letters only: PostgreSQL's C collation and Python sort these
# the same way. The order of creation is not alphabetical ("admin" comes
# after "views"), so tags ordered by id or by insertion are caught.
_WORDS = [
    "async", "cache", "celery", "django", "forms", "orm", "postgres", "queries",
    "rest", "signals", "testing", "views", "admin", "auth", "migrations", "redis",
]
_TITLE_A = ["Practical", "Pragmatic", "Deep", "Gentle", "Advanced", "Modern", "Fast", "Clean"]
_TITLE_B = ["Querysets", "Serializers", "Migrations", "Views", "Signals", "Caching", "Models", "Routers"]
_NAMES = ["Grace", "Linus", "Barbara", "Ken", "Margaret", "Guido", "Radia", "Donald", "Frances", "Edsger"]


@pytest.fixture(scope="session", autouse=True)
def served(candidate, django_db_blocker):
    """The candidate's project, migrated on the judge's database and served by gunicorn.

    The schema is the judge's once migrated: the app keeps reading and
    writing rows, and nothing else (see djgrade_judge.freeze_schema).
    """
    result = candidate.manage("migrate", "--noinput")
    assert result.ok, "migrate failed in the candidate's project:\n%s" % result.output
    with django_db_blocker.unblock():
        freeze_schema()
    candidate.serve()
    return candidate


class Library:
    """Library creates books with varied authors, tags and reviews, and the JSON expected for them."""

    def __init__(self, rng):
        self.rng = rng
        self.tag = rng.randrange(1000, 9999)
        self.expected = {}
        self.books = {}
        self.authors = []
        self.tags = []
        self.dates = []

    def _author(self):
        # Some authors write several books, so a wrong join shows up as a
        # wrong count or a duplicate.
        if not self.authors or self.rng.random() < 0.4:
            name = f"{self.rng.choice(_NAMES)} {self.tag}-{len(self.authors)}"
            self.authors.append(Author.objects.create(name=name))
        return self.rng.choice(self.authors)

    def _grow_tags(self, books_made):
        # The tag pool grows with the books, so work per tag grows too.
        want = 2 + books_made // 3
        while len(self.tags) < min(want, len(_WORDS) * 4):
            i = len(self.tags)
            name = _WORDS[i % len(_WORDS)] + "abcd"[i // len(_WORDS)] * (i // len(_WORDS))
            self.tags.append(Tag.objects.get_or_create(name=name)[0])

    def tag_named(self, name):
        t = Tag.objects.get_or_create(name=name)[0]
        if t not in self.tags:
            self.tags.append(t)
        return t

    def _date(self):
        # Every third book shares a date with an earlier one, so the id
        # tie-break of the ordering matters.
        if self.dates and self.rng.random() < 0.33:
            return self.rng.choice(self.dates)
        d = datetime.date(2001, 1, 1) + datetime.timedelta(days=self.rng.randrange(0, 8000))
        self.dates.append(d)
        return d

    def add(self, count, tags=None, reviews=None, tag_names=None, published_on=None):
        """add creates count books; tags/reviews force how many each gets, tag_names which tags, published_on the date."""
        made = []
        for _ in range(count):
            self._grow_tags(len(self.expected))
            author = self._author()
            title = f"{self.rng.choice(_TITLE_A)} {self.rng.choice(_TITLE_B)} {self.tag}.{len(self.expected)}"
            book = Book.objects.create(title=title, published_on=published_on or self._date(), author=author)
            if tag_names is not None:
                chosen = [self.tag_named(n) for n in tag_names]
            else:
                n_tags = tags if tags is not None else self.rng.choice([0, 1, 1, 2, 3, 4])
                chosen = self.rng.sample(self.tags, min(n_tags, len(self.tags)))
            # Through rows in this order: not alphabetical, so only a real
            # ordering by name gives the expected list.
            for t in chosen:
                book.tags.add(t)
            n_reviews = reviews if reviews is not None else self.rng.choice([0, 1, 2, 3, 5, 8])
            Review.objects.bulk_create(
                [Review(book=book, rating=self.rng.randint(1, 5), body="r" * self.rng.randint(0, 40)) for _ in range(n_reviews)]
            )
            self.books[book.id] = book
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

    def review(self, book, n=1):
        """review adds n reviews to a book, in the database and in the expectation."""
        Review.objects.bulk_create([Review(book=book, rating=3, body="later") for _ in range(n)])
        self.expected[book.id]["review_count"] += n

    def retitle(self, book, title):
        Book.objects.filter(pk=book.pk).update(title=title)
        self.expected[book.id]["title"] = title

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
def reader(make_user):
    """reader is a user the requests authenticate as (Basic: one query per request)."""
    return make_user("hidden-reader")


@pytest.fixture
def library(rng):
    """library is an empty Library drawing from this run's seed."""
    return Library(rng)


def page_url(number):
    return LIST_URL if number == 1 else f"{LIST_URL}?page={number}"


def get_json(app, url, user):
    response = app.get(url, user=user)
    assert response.status == 200, f"GET {url} answered {response.status}, expected 200: {response.body[:300]!r}"
    return response.json()
