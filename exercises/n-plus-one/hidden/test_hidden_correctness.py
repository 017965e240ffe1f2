"""Hidden checks: the response of the books API is unchanged, and follows the data."""

import datetime

import pytest
from djgrade_judge import first_difference

from conftest import get_json, page_url


def same(saw, want, where):
    """same is the message of saw == want: where the answer first differs."""
    return first_difference(saw, want, where)


@pytest.mark.check("list-body-exact")
def test_list_body_is_exact(app, reader, library):
    library.add(12)
    # Tags created late sort early: ordering by id or insertion fails here.
    library.add(1, tag_names=["views", "admin", "cache"])
    library.add(1, tag_names=["signals", "auth"])

    saw, want = get_json(app, page_url(1), reader), library.page(1)
    assert saw == want, same(saw, want, "page 1 of /api/books/")
    saw, want = get_json(app, page_url(2), reader), library.page(2)
    assert saw == want, same(saw, want, "page 2 of /api/books/")


@pytest.mark.check("list-follows-data")
def test_list_follows_data(app, reader, library):
    books = library.add(6)
    saw, want = get_json(app, page_url(1), reader), library.page(1)
    assert saw == want, same(saw, want, "page 1 of /api/books/")
    # Change what the first answer showed: a response kept from before is stale.
    library.review(books[0], 2)
    library.retitle(books[1], "Retitled " + books[1].title)
    library.add(5)
    saw, want = get_json(app, page_url(1), reader), library.page(1)
    assert saw == want, same(saw, want, "page 1 of /api/books/ after books changed")
    saw, want = get_json(app, page_url(2), reader), library.page(2)
    assert saw == want, same(saw, want, "page 2 of /api/books/ after books changed")
    url = f"/api/books/{books[0].id}/"
    saw, want = get_json(app, url, reader), library.expected[books[0].id]
    assert saw == want, same(saw, want, f"{url} after the book got 2 more reviews")


@pytest.mark.check("ordering-pagination")
def test_ordering_and_pagination(app, reader, library):
    library.add(25)

    seen = []
    for number in (1, 2, 3):
        body = get_json(app, page_url(number), reader)
        want = library.page(number)
        assert body == want, same(body, want, f"page {number} of /api/books/ (25 books)")
        seen += [b["id"] for b in body["results"]]
    assert len(seen) == len(set(seen)) == 25, (
        "pages 1-3 listed %d books, %d distinct, expected the 25 books once each" % (len(seen), len(set(seen))))
    status = app.get(page_url(4), user=reader).status
    assert status == 404, f"GET {page_url(4)} (past the last of 3 pages) answered {status}, expected 404"


@pytest.mark.check("detail-body-exact")
def test_detail_body_is_exact(app, reader, library):
    library.add(5)
    library.add(1, tags=0, reviews=0)
    library.add(1, tags=3, reviews=6)
    library.add(1, tag_names=["views", "admin"], reviews=1)

    for book_id, want in library.expected.items():
        url = f"/api/books/{book_id}/"
        saw = get_json(app, url, reader)
        assert saw == want, same(saw, want, url)
    url = f"/api/books/{max(library.expected) + 1000}/"
    status = app.get(url, user=reader).status
    assert status == 404, f"GET {url} (no such book) answered {status}, expected 404"


@pytest.mark.check("books-without-tags-or-reviews")
def test_books_without_tags_or_reviews(app, reader, library):
    library.add(3, tags=0, reviews=0)
    library.add(1, tags=0, reviews=2)
    library.add(1, tags=2, reviews=0)
    library.add(1, tags=1, reviews=1)
    # The newest book is the last made, so a list in id order (no ORDER BY
    # that the database happens to honour) never matches by chance.
    library.add(1, tags=0, reviews=0, published_on=datetime.date(2030, 1, 1))

    saw, want = get_json(app, page_url(1), reader), library.page(1)
    assert saw == want, same(saw, want, "page 1 of /api/books/ (some books without tags or reviews)")


@pytest.mark.check("anonymous-refused")
def test_anonymous_refused(app, reader, library):
    [book] = library.add(1)

    status = app.get("/api/books/").status
    assert status == 401, f"an anonymous GET /api/books/ answered {status}, expected 401"
    url = f"/api/books/{book.id}/"
    status = app.get(url).status
    assert status == 401, f"an anonymous GET {url} answered {status}, expected 401"
    wrong = (reader.username, "not-the-password")
    status = app.get("/api/books/", user=wrong).status
    assert status == 401, f"GET /api/books/ with a wrong password answered {status}, expected 401"
