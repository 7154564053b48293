"""checkout through its HTTP entry point on the real database."""

from tests.helpers import error_of, post


def test_checkout_places_the_order_at_todays_prices(client, new_user, admin):
    first = admin.create_product(stock=10, price_cents=250)
    second = admin.create_product(stock=10, price_cents=1999)
    user, token = new_user()
    post(client("add_item"), token, {"product_id": second, "quantity": 1})
    post(client("add_item"), token, {"product_id": first, "quantity": 3})

    response = post(client("checkout"), token, None, **{"X-Correlation-ID": "checkout-test-1"})
    assert response.status_code == 200, response.get_json()
    order = response.get_json()
    assert order["status"] == "placed"
    assert order["total_cents"] == 3 * 250 + 1999
    assert [
        (ln["product_id"], ln["quantity"], ln["unit_price_cents"]) for ln in order["lines"]
    ] == sorted([(first, 3, 250), (second, 1, 1999)])

    stored = admin.rows(
        "select user_id, status, total_cents, correlation_id from orders where id = :id",
        id=order["order_id"],
    )
    assert stored == [(user, "placed", 2749, "checkout-test-1")]
    lines = admin.rows(
        "select product_id, quantity, unit_price_cents from order_items where order_id = :id order by 1",
        id=order["order_id"],
    )
    assert [tuple(line) for line in lines] == sorted([(first, 3, 250), (second, 1, 1999)])
    # The cart is empty and stock was taken once, at add time.
    assert admin.in_cart(user, first) == admin.in_cart(user, second) == 0
    assert (admin.stock(first), admin.stock(second)) == (7, 9)

    again = post(client("checkout"), token, {})
    assert (again.status_code, error_of(again)["code"]) == (409, "cart_empty")


def test_checkout_body_is_optional_but_strict(client, new_user, admin):
    product = admin.create_product(stock=10)
    _, token = new_user()
    post(client("add_item"), token, {"product_id": product})
    response = post(client("checkout"), token, {"express": True})
    assert (response.status_code, error_of(response)["code"]) == (422, "validation_error")
    assert post(client("checkout"), token, raw=b"").status_code == 200
