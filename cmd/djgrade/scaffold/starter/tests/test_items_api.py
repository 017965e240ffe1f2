"""Public tests of the items API. Run them with: python3 -m pytest"""

from rest_framework.test import APIClient

from items.models import Item


def test_list_returns_every_item(db):
    for name in ["pear", "apple", "fig"]:
        Item.objects.create(name=name)

    response = APIClient().get("/api/items/", format="json")

    assert response.status_code == 200
    body = response.json()
    assert sorted(i["name"] for i in body) == ["apple", "fig", "pear"]
    assert all(set(i) == {"id", "name"} for i in body)
