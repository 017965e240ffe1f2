from orders.models import Batch, Order, OrderLine, Product


def order_payload(*lines):
    return {"lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines]}


# The endpoints.


def test_place_order(api, products, sent):
    response = api.post("/api/orders/", order_payload(("MUG-1", 2), ("TEA-7", 1)), format="json")
    assert response.status_code == 201, response.content
    order = Order.objects.get()
    assert response.json() == {
        "id": order.id,
        "total_cents": 2 * 850 + 1290,
        "lines": [
            {"sku": "MUG-1", "quantity": 2, "unit_price_cents": 850},
            {"sku": "TEA-7", "quantity": 1, "unit_price_cents": 1290},
        ],
    }
    assert Product.objects.get(sku="MUG-1").stock == 98


def test_out_of_stock_writes_nothing(api, products, sent):
    response = api.post("/api/orders/", order_payload(("MUG-1", 1), ("LAMP-2", 3)), format="json")
    assert response.status_code == 409
    assert response.json() == {"detail": "Not enough stock for LAMP-2."}
    assert not Order.objects.exists() and not OrderLine.objects.exists()
    assert Product.objects.get(sku="MUG-1").stock == 100


def test_unknown_product(api, products, sent):
    response = api.post("/api/orders/", order_payload(("NOPE-0", 1)), format="json")
    assert response.status_code == 400
    assert response.json() == {"lines": ["Unknown product: NOPE-0."]}
    assert not Order.objects.exists()


def test_bulk_skips_what_it_cannot_place(api, products, sent):
    payload = {"orders": [order_payload(("LAMP-2", 2)), order_payload(("LAMP-2", 1)), order_payload(("TEA-7", 4))]}
    response = api.post("/api/orders/bulk/", payload, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    first, last = Order.objects.order_by("id")
    assert body == {
        "batch": Batch.objects.get().id,
        "placed": [
            {"id": first.id, "total_cents": 9000, "lines": [{"sku": "LAMP-2", "quantity": 2, "unit_price_cents": 4500}]},
            {"id": last.id, "total_cents": 5160, "lines": [{"sku": "TEA-7", "quantity": 4, "unit_price_cents": 1290}]},
        ],
        "failed": [{"index": 1, "detail": "Not enough stock for LAMP-2."}],
    }
    assert Product.objects.get(sku="LAMP-2").stock == 0


# The warehouse's task.


def test_task_sent_once_after_commit(api, products, sent):
    response = api.post("/api/orders/", order_payload(("TEA-7", 3)), format="json")
    assert response.status_code == 201
    assert sent.order_ids == [response.json()["id"]]
    call = sent.calls[0]
    assert not call["in_transaction"], "process_order was sent while the order's transaction was still open"
    assert call["order_exists"]


def test_no_task_for_an_order_out_of_stock(api, products, sent):
    response = api.post("/api/orders/", order_payload(("LAMP-2", 5)), format="json")
    assert response.status_code == 409
    assert sent.calls == [], "process_order was sent for an order that was rolled back"


def test_bulk_tasks_for_placed_orders_only(api, products, sent):
    payload = {"orders": [order_payload(("MUG-1", 1)), order_payload(("LAMP-2", 9)), order_payload(("TEA-7", 2))]}
    response = api.post("/api/orders/bulk/", payload, format="json")
    assert response.status_code == 201
    placed = [o["id"] for o in response.json()["placed"]]
    assert sorted(sent.order_ids) == sorted(placed)
    assert not any(c["in_transaction"] for c in sent.calls)
