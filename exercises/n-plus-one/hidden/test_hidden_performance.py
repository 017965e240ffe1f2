"""Hidden checks: the list runs a fixed, small number of queries.

Every count is taken together with the exact response body, so fewer
queries never pays for less data.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db

MAX_LIST_QUERIES = 5


def measure(client, djgrade_queries, url):
    """measure GETs url and returns (JSON body, statements run), savepoints left out.

    Two independent counters watch the request: the grader's (an
    execute_wrapper) and Django's own debug-cursor log. Code under test runs
    in this process, so if it silenced one counter they would disagree.
    """
    with CaptureQueriesContext(connection) as django_log:
        with djgrade_queries() as q:
            response = client.get(url, format="json")
    assert response.status_code == 200, (url, response.status_code)
    logged = [e["sql"] for e in django_log.captured_queries]
    logged = [s for s in logged if not s.lstrip().upper().startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT"))]
    assert len(logged) == q.count, ("query counters disagree", logged, q.sql)
    # A page always needs its rows and the paginator's total.
    assert q.count >= 2, q.sql
    return response.json(), q.sql


@pytest.mark.djgrade(points=4, category="performance", name="List query count does not grow with the number of books")
def test_list_queries_constant(reader, make_library, djgrade_queries):
    lib = make_library(606)
    lib.add(3)
    small, small_sql = measure(reader, djgrade_queries, "/api/books/")
    assert small == lib.page(1)

    lib.add(27)
    large, large_sql = measure(reader, djgrade_queries, "/api/books/")
    assert large == lib.page(1)
    last, last_sql = measure(reader, djgrade_queries, "/api/books/?page=3")
    assert last == lib.page(3)

    assert len(small_sql) == len(large_sql) == len(last_sql), (small_sql, large_sql)


@pytest.mark.djgrade(points=2, category="performance", name="List runs at most 5 queries")
def test_list_queries_small(reader, make_library, djgrade_queries):
    lib = make_library(707)
    lib.add(30)
    body, sql = measure(reader, djgrade_queries, "/api/books/?page=2")
    assert body == lib.page(2)
    assert len(sql) <= MAX_LIST_QUERIES, sql
