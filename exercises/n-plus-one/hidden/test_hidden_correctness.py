"""Hidden checks: the response of the books API is unchanged, and follows the data."""

import datetime

import pytest

from conftest import get_json, page_url


@pytest.mark.check("list-body-exact")
def test_list_body_is_exact(app, reader, library):
    library.add(12)
    # Tags created late sort early: ordering by id or insertion fails here.
    library.add(1, tag_names=["views", "admin", "cache"])
    library.add(1, tag_names=["signals", "auth"])

    assert get_json(app, page_url(1), reader) == library.page(1)
    assert get_json(app, page_url(2), reader) == library.page(2)


@pytest.mark.check("list-follows-data")
def test_list_follows_data(app, reader, library):
    books = library.add(6)
    assert get_json(app, page_url(1), reader) == library.page(1)
    # Change what the first answer showed: a response kept from before is stale.
    library.review(books[0], 2)
    library.retitle(books[1], "Retitled " + books[1].title)
    library.add(5)
    assert get_json(app, page_url(1), reader) == library.page(1)
    assert get_json(app, page_url(2), reader) == library.page(2)
    assert get_json(app, f"/api/books/{books[0].id}/", reader) == library.expected[books[0].id]


@pytest.mark.check("ordering-pagination")
def test_ordering_and_pagination(app, reader, library):
    library.add(25)

    seen = []
    for number in (1, 2, 3):
        body = get_json(app, page_url(number), reader)
        assert body == library.page(number), number
        seen += [b["id"] for b in body["results"]]
    assert len(seen) == len(set(seen)) == 25
    assert app.get(page_url(4), user=reader).status == 404


@pytest.mark.check("detail-body-exact")
def test_detail_body_is_exact(app, reader, library):
    library.add(5)
    library.add(1, tags=0, reviews=0)
    library.add(1, tags=3, reviews=6)
    library.add(1, tag_names=["views", "admin"], reviews=1)

    for book_id, want in library.expected.items():
        assert get_json(app, f"/api/books/{book_id}/", reader) == want
    assert app.get(f"/api/books/{max(library.expected) + 1000}/", user=reader).status == 404


@pytest.mark.check("books-without-tags-or-reviews")
def test_books_without_tags_or_reviews(app, reader, library):
    library.add(3, tags=0, reviews=0)
    library.add(1, tags=0, reviews=2)
    library.add(1, tags=2, reviews=0)
    library.add(1, tags=1, reviews=1)
    # The newest book is the last made, so a list in id order (no ORDER BY
    # that the database happens to honour) never matches by chance.
    library.add(1, tags=0, reviews=0, published_on=datetime.date(2030, 1, 1))

    assert get_json(app, page_url(1), reader) == library.page(1)


@pytest.mark.check("anonymous-refused")
def test_anonymous_refused(app, reader, library):
    [book] = library.add(1)

    assert app.get("/api/books/").status == 401
    assert app.get(f"/api/books/{book.id}/").status == 401
    wrong = (reader.username, "not-the-password")
    assert app.get("/api/books/", user=wrong).status == 401
