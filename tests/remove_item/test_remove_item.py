"""remove_item through its HTTP entry point on the real database."""

from tests.helpers import error_of, post


def test_remove_part_then_more_than_is_left(client, new_user, admin):
    product = admin.create_product(stock=10)
    user, token = new_user()
    assert (
        post(client("add_item"), token, {"product_id": product, "quantity": 4}).status_code == 200
    )

    response = post(client("remove_item"), token, {"product_id": product})
    assert response.status_code == 200
    assert response.get_json() == {"product_id": product, "quantity": 3}
    assert (admin.stock(product), admin.in_cart(user, product)) == (7, 3)

    # Asking for more than is there removes the line and gives back exactly what was there.
    response = post(client("remove_item"), token, {"product_id": product, "quantity": 1000})
    assert response.get_json() == {"product_id": product, "quantity": 0}
    assert (admin.stock(product), admin.in_cart(user, product)) == (10, 0)
    assert (
        admin.scalar(
            "select count(*) from cart_items ci join carts c on c.id = ci.cart_id where c.user_id = :u",
            u=user,
        )
        == 0
    )

    response = post(client("remove_item"), token, {"product_id": product})
    assert (response.status_code, error_of(response)["code"]) == (404, "item_not_in_cart")


def test_one_users_remove_never_touches_anothers_cart(client, new_user, admin):
    product = admin.create_product(stock=10)
    alice, alice_token = new_user()
    _, bob_token = new_user()
    post(client("add_item"), alice_token, {"product_id": product, "quantity": 2})
    response = post(client("remove_item"), bob_token, {"product_id": product, "quantity": 2})
    assert response.status_code == 404
    assert (admin.stock(product), admin.in_cart(alice, product)) == (8, 2)
