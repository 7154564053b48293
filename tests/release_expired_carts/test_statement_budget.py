"""How many SQL statements one expiry sweep sends, pinned: one statement per batch of carts and
one per batch of old keys, each in its own short transaction.

Counted from the data layer's DEBUG log, which records every statement it sends.
"""

from tests.support import random_id, sweep


def test_a_sweep_sends_one_statement_per_batch(client, admin, statements):
    sweep(client)  # whatever earlier tests left expired
    product, user = admin.create_product(stock=10), random_id()
    admin.put_in_cart(user, product, 2)
    admin.expire_cart(user)
    statements()
    assert sweep(client)["released_units"] == 2
    assert statements() == ["BEGIN", "WITH", "COMMIT", "BEGIN", "WITH", "COMMIT"]
