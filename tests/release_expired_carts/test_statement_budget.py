"""How many SQL statements one expiry sweep sends, pinned: one statement per batch of carts and
one per batch of old keys, each in its own short transaction.

Counted from the data layer's DEBUG log, which records every statement it sends.
"""

from tests.support import post


def test_a_sweep_sends_one_statement_per_batch(client, new_user, admin, statements):
    client("release_expired_carts").post("/")  # whatever earlier tests left expired
    product = admin.create_product(stock=10)
    user, token = new_user()
    post(client("add_item"), token, {"product_id": product, "quantity": 2})
    admin.expire_cart(user)
    statements()
    assert client("release_expired_carts").post("/").get_json()["released_units"] == 2
    assert statements() == ["BEGIN", "WITH", "COMMIT", "BEGIN", "WITH", "COMMIT"]
