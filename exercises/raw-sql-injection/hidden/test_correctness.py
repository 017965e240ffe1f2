"""Hidden correctness checks: legitimate reports are exactly right, invalid input answers 400."""

import pytest

from conftest import SORTS, DIRECTIONS, PLAIN_STATUSES


@pytest.mark.check("report-exact")
def test_report_exact(shop):
    shop.report({})
    for sort in SORTS:
        for direction in DIRECTIONS:
            shop.report({"sort": sort, "direction": direction})
        shop.report({"sort": sort})
    shop.report({"direction": "asc"})
    for status in PLAIN_STATUSES:
        shop.report({"status": status, "sort": "reference", "direction": "asc"})
    for word in ("Traders", "Harbor", "Acme", "Foods"):
        shop.report({"customer": word})
    rng = shop.rng
    some = rng.sample(shop.orders, 3)
    for o in some:
        shop.report({"min_total": str(o.total_cents), "sort": "total_cents", "direction": "asc"})
    shop.report({"min_total": "0"})
    lo, hi = sorted(rng.sample(shop.dates, 2))
    shop.report({"placed_from": lo.isoformat(), "placed_to": hi.isoformat(), "sort": "customer_name"})
    d = rng.choice(shop.dates)
    shop.report({"placed_from": d.isoformat(), "placed_to": d.isoformat()})  # both ends inclusive
    shop.report({"placed_from": d.isoformat(), "direction": "asc"})
    shop.report({"placed_to": d.isoformat(), "sort": "reference"})
    shop.report({"customer": "Harbor", "status": "paid", "min_total": "500", "placed_from": lo.isoformat(),
                 "placed_to": hi.isoformat(), "sort": "customer_name", "direction": "desc"})
    # Reports are for signed-in users only.
    url, resp = shop.get({}, user=False)
    assert resp.status in (401, 403), "GET %s without credentials answered %d, expected 401 or 403" % (url, resp.status)


@pytest.mark.check("text-filters-literal")
def test_text_filters_literal(shop):
    searches = [
        "O'Brien", "'", "100%", "%", "A_B", "_", "C:\\T", "\\", "\\'", "ë", "Zoë Ü", "東京", "Łódź",
        '"Le Chef"', "Union Street", "Robert'); DROP TABLE", "It's \\'q",
        # Case matters.
        "o'brien", "zoë", "union street",
        # Spaces are part of the text: nothing is trimmed.
        "Traders ", " Traders", "  ", "Acme  Traders",
    ]
    for text in searches:
        shop.report({"customer": text})
        shop.report({"customer": text, "sort": "customer_name", "direction": "asc"})
    for status in ("can't ship", "50% refunded", "held\\review", "50%", "held", "PAID", " paid", "paid ", "on  hold"):
        shop.report({"status": status})


@pytest.mark.check("invalid-input-400")
def test_invalid_input_400(shop):
    for params in [
        {"placed_from": "2023-02-30"},
        {"placed_to": "2023-13-01"},
        {"placed_from": "yesterday"},
        {"placed_to": "01/02/2024"},
        {"min_total": "12.50"},
        {"min_total": "ten"},
        {"min_total": "1e3"},
        {"sort": "price"},
        {"sort": "password"},
        {"sort": "status"},
        {"sort": "id"},
        {"placed_from": "20240102"},
        {"placed_to": "2024-W01-2"},
        {"direction": "up"},
        {"direction": "descending"},
        {"customer": "Acme", "placed_from": "2023-02-29"},
    ]:
        shop.refused(params)
