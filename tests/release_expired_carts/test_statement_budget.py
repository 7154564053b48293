"""How many SQL statements one expiry sweep sends, pinned: one statement per batch of carts and
one per batch of old keys, each in its own short transaction.

Counted from the data layer's DEBUG log, which records every statement it sends.
"""

import pytest

from tests.support import random_id, sweep


@pytest.mark.parametrize("buckets", [1, 8], ids=["N=1", "N=8"])
def test_a_sweep_sends_one_statement_per_batch(client, admin, statements, buckets):
    sweep(client)  # whatever earlier tests left expired
    product, user = admin.create_product(stock=16, buckets=buckets), random_id()
    admin.put_in_cart(user, product, 2)
    admin.expire_cart(user)
    statements()
    assert sweep(client)["released_units"] == 2
    assert statements() == ["BEGIN", "WITH", "COMMIT", "BEGIN", "WITH", "COMMIT"]
