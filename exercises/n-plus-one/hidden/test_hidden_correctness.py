"""Hidden checks: the response of the books API is unchanged."""

import pytest

pytestmark = pytest.mark.django_db


def get(client, url):
    response = client.get(url, format="json")
    assert response.status_code == 200, (url, response.status_code)
    return response.json()


def page_url(number):
    return "/api/books/" if number == 1 else f"/api/books/?page={number}"


@pytest.mark.djgrade(points=2, category="correctness", name="List returns every field of every book")
def test_list_body_is_exact(reader, make_library):
    lib = make_library(101)
    lib.add(14)

    assert get(reader, page_url(1)) == lib.page(1)
    assert get(reader, page_url(2)) == lib.page(2)


@pytest.mark.djgrade(points=1, category="correctness", name="Ordering and pagination are unchanged")
def test_ordering_and_pagination(reader, make_library):
    lib = make_library(202)
    lib.add(25)

    seen = []
    for number in (1, 2, 3):
        body = get(reader, page_url(number))
        assert body == lib.page(number), number
        seen += [b["id"] for b in body["results"]]
    assert len(seen) == len(set(seen)) == 25
    assert reader.get(page_url(4), format="json").status_code == 404


@pytest.mark.djgrade(points=1, category="correctness", name="Detail endpoint returns the same representation")
def test_detail_body_is_exact(reader, make_library):
    lib = make_library(303)
    lib.add(5)
    lib.add(1, tags=0, reviews=0)
    lib.add(1, tags=3, reviews=6)

    for book_id, want in lib.expected.items():
        assert get(reader, f"/api/books/{book_id}/") == want
    assert reader.get(f"/api/books/{max(lib.expected) + 1000}/", format="json").status_code == 404


@pytest.mark.djgrade(points=1, category="correctness", name="Books without tags or reviews are listed")
def test_books_without_tags_or_reviews(reader, make_library):
    lib = make_library(404)
    lib.add(3, tags=0, reviews=0)
    lib.add(1, tags=0, reviews=2)
    lib.add(1, tags=2, reviews=0)
    lib.add(1, tags=1, reviews=1)

    assert get(reader, page_url(1)) == lib.page(1)


@pytest.mark.djgrade(points=1, category="correctness", name="Anonymous requests are still refused")
def test_anonymous_refused(client, make_library):
    lib = make_library(505)
    [book] = lib.add(1)

    assert client.get("/api/books/").status_code == 401
    assert client.get(f"/api/books/{book.id}/").status_code == 401
