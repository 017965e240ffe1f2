"""Public tests of the product search. Run them with: python3 -m pytest"""

from django.db import connection
from django.test.utils import CaptureQueriesContext

URL = "/api/products/search/"


def search(client, body, page=None):
    url = URL if page is None else f"{URL}?page={page}"
    response = client.post(url, body, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def skus(body):
    return [p["sku"] for p in body["results"]]


def test_no_filters_lists_everything_cheapest_first(api_client, catalog):
    body = search(api_client, {})
    assert body["count"] == 6
    # Cheapest first; the kettle and the stool cost the same, so the older id comes first.
    assert skus(body) == ["PUB-004", "PUB-002", "PUB-003", "PUB-006", "PUB-001", "PUB-005"]
    assert body["results"][1] == {
        "id": catalog["spoon"].id,
        "sku": "PUB-002",
        "name": "Wooden spoon",
        "price": 450,
        "released_on": "2023-01-09",
        "brand": None,
        "vendor": "South Goods",
        "tags": ["kids", "wood"],
    }


def test_price_range_is_inclusive(api_client, catalog):
    body = search(api_client, {"groups": [{"price_min": 450, "price_max": 3900}]})
    assert skus(body) == ["PUB-002", "PUB-003", "PUB-006"]


def test_group_requires_every_tag(api_client, catalog):
    body = search(api_client, {"groups": [{"tags": ["wood", "kids"]}]})
    assert skus(body) == ["PUB-002", "PUB-006"]


def test_text_matches_name_sku_or_tag(api_client, catalog):
    # "wood" is in a name ("Wooden spoon") and a tag of three products.
    body = search(api_client, {"text": "WOOD"})
    assert body["count"] == 3
    assert skus(body) == ["PUB-002", "PUB-006", "PUB-001"]


def test_any_group_may_match(api_client, catalog):
    body = search(api_client, {"match": "any", "groups": [{"tags": ["steel"]}, {"price_max": 450}]})
    assert skus(body) == ["PUB-004", "PUB-002", "PUB-003", "PUB-005"]


def test_excluding_a_brand_keeps_unbranded_products(api_client, catalog):
    body = search(api_client, {"exclude_brand": "ACME"})
    assert skus(body) == ["PUB-002", "PUB-003", "PUB-006", "PUB-005"]


def test_anonymous_is_refused(client, catalog):
    assert client.post(URL, {}, content_type="application/json").status_code == 401


def test_query_count_does_not_grow_with_results(api_client, catalog, add_products):
    body = {"text": "e"}
    with CaptureQueriesContext(connection) as small:
        first = search(api_client, body)
    add_products(12)
    with CaptureQueriesContext(connection) as large:
        second = search(api_client, body)
    assert len(first["results"]) < len(second["results"]) == 10
    assert len(small.captured_queries) == len(large.captured_queries), "%d queries for the larger search, %d for the smaller; the larger ran:\n%s" % (
        len(large.captured_queries), len(small.captured_queries), "\n".join(q["sql"] for q in large.captured_queries))
