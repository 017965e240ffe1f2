"""Hidden checks of the items API. Each says in words what it expected and what it saw."""

import pytest
from djgrade_judge import assert_app_idle

from items.models import Item

# Lower-case letters only: PostgreSQL's collation and Python's sort agree on these.
_WORDS = [
    "apple", "banana", "cherry", "damson", "elder", "fig", "grape", "guava", "kiwi",
    "lemon", "lime", "mango", "melon", "olive", "peach", "pear", "plum", "quince",
]


@pytest.mark.check("list-sorted-by-name")
def test_list_sorted_by_name(app, app_queries, rng):
    names = sorted(rng.sample(_WORDS, 8))
    # Created Z to A, so creation order (or id order) is never the answer.
    for name in reversed(names):
        Item.objects.create(name=name)
    assert_app_idle()

    with app_queries() as q:
        response = app.get("/api/items/")
    assert response.status == 200, "GET /api/items/ answered %d, expected 200: %r" % (response.status, response.body[:300])
    got = [item.get("name") for item in response.json()]
    assert got == names, "expected the items sorted by name, %s; the list returned %s" % (names, got)
    assert q.count <= 2, "the list took %d statements, expected at most 2:\n%s" % (q.count, q.describe())
