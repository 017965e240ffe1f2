"""Public tests of the orders report. Run them with: python3 -m pytest"""

URL = "/api/reports/orders/"


def refs(response):
    assert response.status_code == 200, response.content[:300]
    body = response.json()
    assert body["count"] == len(body["results"])
    return [row["reference"] for row in body["results"]]


def test_default_report_is_newest_first(api_client, orders):
    response = api_client.get(URL)

    assert refs(response) == ["ORD-002", "ORD-004", "ORD-001", "ORD-003", "ORD-005"]
    first = response.json()["results"][0]
    assert first == {
        "id": orders["ORD-002"].id,
        "reference": "ORD-002",
        "customer_name": "O'Brien & Sons",
        "status": "paid",
        "total_cents": 4999,
        "placed_on": "2024-03-05",
    }


def test_sort_and_direction(api_client, orders):
    assert refs(api_client.get(URL, {"sort": "total_cents", "direction": "asc"})) == [
        "ORD-003", "ORD-005", "ORD-002", "ORD-001", "ORD-004"]
    assert refs(api_client.get(URL, {"sort": "customer_name", "direction": "asc"})) == [
        "ORD-003", "ORD-004", "ORD-001", "ORD-005", "ORD-002"]
    assert refs(api_client.get(URL, {"sort": "reference", "direction": "desc"})) == [
        "ORD-005", "ORD-004", "ORD-003", "ORD-002", "ORD-001"]


def test_filters(api_client, orders):
    assert refs(api_client.get(URL, {"customer": "Acme"})) == ["ORD-001", "ORD-005"]
    assert refs(api_client.get(URL, {"status": "pending"})) == ["ORD-003", "ORD-005"]
    assert refs(api_client.get(URL, {"min_total": "5000"})) == ["ORD-004", "ORD-001"]
    assert refs(api_client.get(URL, {"placed_from": "2024-02-20", "placed_to": "2024-03-01"})) == [
        "ORD-001", "ORD-003"]


def test_customer_with_a_quote(api_client, orders):
    assert refs(api_client.get(URL, {"customer": "O'Brien"})) == ["ORD-002"]


def test_percent_sign_is_an_ordinary_character(api_client, orders):
    assert refs(api_client.get(URL, {"customer": "100%"})) == ["ORD-003"]


def test_injected_condition_matches_nothing(api_client, orders):
    assert refs(api_client.get(URL, {"customer": "' OR '1'='1"})) == []


def test_invalid_date_is_a_bad_request(api_client, orders):
    assert api_client.get(URL, {"placed_from": "last week"}).status_code == 400


def test_unknown_sort_is_a_bad_request(api_client, orders):
    assert api_client.get(URL, {"sort": "price"}).status_code == 400
