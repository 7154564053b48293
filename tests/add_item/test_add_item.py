"""add_item on the real database, through functions-framework and its Lambda handler."""


def test_add_reserves_units_in_the_callers_cart(invoke, new_user, admin):
    product = admin.create_product(stock=10)
    user, token = new_user()
    answer = invoke("add_item", {"product_id": product, "quantity": 2}, token)
    assert answer.status == 200, answer.json
    assert answer.json == {"product_id": product, "quantity": 2}
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.headers["X-Correlation-ID"]  # none was sent: minted, or API Gateway's own
    # The default quantity is one; the answer is the whole line.
    assert invoke("add_item", {"product_id": product}, token).json == {
        "product_id": product,
        "quantity": 3,
    }
    assert (admin.stock(product), admin.in_cart(user, product)) == (7, 3)


def test_a_keyed_add_is_applied_once_on_either_entry_point(invoke, new_user, admin):
    product = admin.create_product(stock=10)
    user, token = new_user()
    key = {"Idempotency-Key": f"click-{user}"}
    first = invoke("add_item", {"product_id": product, "quantity": 2}, token, **key)
    again = invoke("add_item", {"product_id": product, "quantity": 2}, token, **key)
    assert first.json == again.json == {"product_id": product, "quantity": 2}
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert (admin.stock(product), admin.in_cart(user, product)) == (8, 2)
