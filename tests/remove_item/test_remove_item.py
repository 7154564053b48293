"""remove_item on the real database, through functions-framework and its Lambda handler."""

from tests.support import error_of


def test_remove_part_then_more_than_is_left(invoke, new_user, admin):
    product = admin.create_product(stock=10)
    user, token = new_user()
    admin.put_in_cart(user, product, 4)
    assert (admin.stock(product), admin.in_cart(user, product)) == (6, 4)

    answer = invoke("remove_item", {"product_id": product}, token)
    assert answer.status == 200
    assert answer.json == {"product_id": product, "quantity": 3}
    assert (admin.stock(product), admin.in_cart(user, product)) == (7, 3)

    # Asking for more than is there removes the line and gives back exactly what was there.
    answer = invoke("remove_item", {"product_id": product, "quantity": 1000}, token)
    assert answer.json == {"product_id": product, "quantity": 0}
    assert (admin.stock(product), admin.in_cart(user, product)) == (10, 0)
    assert (
        admin.scalar(
            "select count(*) from cart_items ci join carts c on c.id = ci.cart_id where c.user_id = :u",
            u=user,
        )
        == 0
    )

    answer = invoke("remove_item", {"product_id": product}, token)
    assert (answer.status, error_of(answer)["code"]) == (404, "item_not_in_cart")


def test_one_users_remove_never_touches_anothers_cart(invoke, new_user, admin):
    product = admin.create_product(stock=10)
    alice, _ = new_user()
    _, bob_token = new_user()
    admin.put_in_cart(alice, product, 2)
    answer = invoke("remove_item", {"product_id": product, "quantity": 2}, bob_token)
    assert answer.status == 404
    assert (admin.stock(product), admin.in_cart(alice, product)) == (8, 2)


def test_a_keyed_remove_is_replayed_on_either_entry_point(invoke, new_user, admin):
    product = admin.create_product(stock=10)
    user, token = new_user()
    admin.put_in_cart(user, product, 4)
    key = {"Idempotency-Key": f"click-{user}"}
    first = invoke("remove_item", {"product_id": product}, token, **key)
    again = invoke("remove_item", {"product_id": product}, token, **key)
    assert first.json == again.json == {"product_id": product, "quantity": 3}
    assert ("Idempotent-Replayed" not in first.headers, again.headers["Idempotent-Replayed"]) == (
        True,
        "true",
    )
    assert admin.in_cart(user, product) == 3
