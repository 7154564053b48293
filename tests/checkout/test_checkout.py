"""checkout on the real database, through functions-framework and its Lambda handler."""

from tests.support import error_of


def test_checkout_places_the_order_at_todays_prices(invoke, new_user, admin):
    first = admin.create_product(stock=10, price_cents=250)
    second = admin.create_product(stock=10, price_cents=1999)
    user, token = new_user()
    admin.put_in_cart(user, second, 1)
    admin.put_in_cart(user, first, 3)

    answer = invoke("checkout", None, token, **{"X-Correlation-ID": "checkout-test-1"})
    assert answer.status == 200, answer.json
    order = answer.json
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

    again = invoke("checkout", {}, token)
    assert (again.status, error_of(again)["code"]) == (409, "cart_empty")


def test_checkout_body_is_optional_but_strict(invoke, new_user, admin):
    product = admin.create_product(stock=10)
    user, token = new_user()
    admin.put_in_cart(user, product)
    answer = invoke("checkout", {"express": True}, token)
    assert (answer.status, error_of(answer)["code"]) == (422, "validation_error")
    assert invoke("checkout", token=token, raw=b"").status == 200


def test_a_keyed_checkout_places_one_order_on_either_entry_point(invoke, new_user, admin):
    product = admin.create_product(stock=10)
    user, token = new_user()
    admin.put_in_cart(user, product, 2)
    key = {"Idempotency-Key": f"click-{user}"}
    first = invoke("checkout", {}, token, **key)
    again = invoke("checkout", {}, token, **key)
    assert first.status == again.status == 200 and first.json == again.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert admin.scalar("select count(*) from orders where user_id = :u", u=user) == 1
