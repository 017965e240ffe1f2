"""Hidden checks: the list runs a fixed, small number of statements.

Statements are counted by PostgreSQL for the app's own database role, so
raw cursors, other threads and other connections count. Every count is
taken together with the exact response body, so fewer statements never
pays for less data.
"""

import pytest
from djgrade_judge import assert_app_idle, first_difference

from conftest import page_url

# The page's rows and the paginator's total, plus tags and review counts
# however they are fetched, plus the one lookup of Basic authentication.
MAX_LIST_QUERIES = 5


def measure(app, app_queries, url, user):
    """measure GETs url and returns (JSON body, statements the app ran)."""
    with app_queries() as q:
        response = app.get(url, user=user)
    assert response.status == 200, f"GET {url} answered {response.status}, expected 200: {response.body[:300]!r}"
    # A page always needs its rows and the paginator's total.
    assert q.count >= 2, "GET %s ran %d statement(s) on the app's database, expected at least 2 (the page's rows and the total):\n%s" % (
        url, q.count, q.describe())
    return response.json(), q


@pytest.mark.check("list-queries-constant")
def test_list_queries_constant(app, app_queries, reader, library):
    library.add(3)
    assert_app_idle()
    small, small_q = measure(app, app_queries, page_url(1), reader)
    want = library.page(1)
    assert small == want, first_difference(small, want, "page 1 of /api/books/ (3 books)")

    library.add(27)
    assert_app_idle()
    large, large_q = measure(app, app_queries, page_url(1), reader)
    want = library.page(1)
    assert large == want, first_difference(large, want, "page 1 of /api/books/ (30 books)")
    last, last_q = measure(app, app_queries, page_url(3), reader)
    want = library.page(3)
    assert last == want, first_difference(last, want, "page 3 of /api/books/ (30 books)")

    assert small_q.count == large_q.count == last_q.count, (
        "page 1 with 3 books took %d statements, page 1 with 30 books %d, page 3 %d; expected the same count:\n%s"
        % (small_q.count, large_q.count, last_q.count, large_q.describe())
    )


@pytest.mark.check("list-queries-small")
def test_list_queries_small(app, app_queries, reader, library):
    library.add(30)
    assert_app_idle()
    body, q = measure(app, app_queries, page_url(2), reader)
    want = library.page(2)
    assert body == want, first_difference(body, want, "page 2 of /api/books/ (30 books)")
    assert q.count <= MAX_LIST_QUERIES, "page 2 took %d statements, at most %d allowed:\n%s" % (
        q.count, MAX_LIST_QUERIES, q.describe())
