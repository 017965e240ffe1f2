"""Public tests of the books API. Run them with: python3 -m pytest"""

from django.db import connection
from django.test.utils import CaptureQueriesContext


def count_queries(client, url):
    """count_queries GETs url and returns (response, queries run), savepoints left out."""
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, format="json")
    sql = [q["sql"] for q in ctx.captured_queries]
    work = [s for s in sql if not s.upper().startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT"))]
    return response, work


def test_list_returns_books_newest_first(api_client, shelf):
    response = api_client.get("/api/books/", format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert body["next"] is None and body["previous"] is None
    assert body["results"] == [
        {
            "id": shelf["tables"].id,
            "title": "Tables of Numbers",
            "published_on": "2022-03-09",
            "author": {"id": shelf["tables"].author_id, "name": "Ada Lovelace"},
            "tags": ["django"],
            "review_count": 1,
        },
        {
            "id": shelf["notes"].id,
            "title": "Notes on the Engine",
            "published_on": "2021-05-01",
            "author": {"id": shelf["notes"].author_id, "name": "Ada Lovelace"},
            "tags": ["django", "orm"],
            "review_count": 2,
        },
        {
            "id": shelf["machines"].id,
            "title": "Computing Machinery",
            "published_on": "2020-01-15",
            "author": {"id": shelf["machines"].author_id, "name": "Alan Turing"},
            "tags": [],
            "review_count": 0,
        },
    ]


def test_detail_returns_one_book(api_client, shelf):
    notes = shelf["notes"]

    response = api_client.get(f"/api/books/{notes.id}/", format="json")

    assert response.status_code == 200
    assert response.json() == {
        "id": notes.id,
        "title": "Notes on the Engine",
        "published_on": "2021-05-01",
        "author": {"id": notes.author_id, "name": "Ada Lovelace"},
        "tags": ["django", "orm"],
        "review_count": 2,
    }


def test_list_requires_authentication(client, shelf):
    assert client.get("/api/books/").status_code == 401


def test_list_query_count_does_not_grow_with_books(api_client, shelf, add_books):
    small, small_sql = count_queries(api_client, "/api/books/")
    add_books(7)
    large, large_sql = count_queries(api_client, "/api/books/")

    assert small.status_code == large.status_code == 200
    assert len(small.json()["results"]) == 3 and len(large.json()["results"]) == 10
    assert len(large_sql) == len(small_sql), "%d queries for 10 books, %d for 3; the 10 books ran:\n%s" % (
        len(large_sql), len(small_sql), "\n".join(large_sql))
