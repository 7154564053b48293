"""How many SQL statements remove_item sends from BEGIN to COMMIT inclusive, pinned.

Counted from the data layer's DEBUG log, which records every statement it sends (the one path
commands have to the database). Counts, unlike times, do not flake. Each count holds whether
the product's stock lives in one row or in 8 buckets (sql/16_stock_buckets.sql).
"""

import pytest

from tests.support import post

pytestmark = pytest.mark.parametrize("buckets", [1, 8], ids=["N=1", "N=8"])


def test_a_remove_sends_four_statements(client, new_user, admin, statements, buckets):
    product = admin.create_product(stock=16, buckets=buckets)
    user, token = new_user()
    admin.put_in_cart(user, product, 2)
    statements()
    assert post(client("remove_item"), token, {"product_id": product}).status_code == 200
    assert statements() == ["BEGIN", "WITH", "WITH", "COMMIT"]


# With an Idempotency-Key: the claim rides in the lock statement and the answer in the write
# statement, so a keyed command costs no extra statement.
def test_a_keyed_remove_sends_the_same_four_statements(
    client, new_user, admin, statements, buckets
):
    product = admin.create_product(stock=16, buckets=buckets)
    user, token = new_user()
    admin.put_in_cart(user, product)
    statements()
    response = post(
        client("remove_item"), token, {"product_id": product}, **{"Idempotency-Key": "budget-1"}
    )
    assert response.status_code == 200
    assert statements() == ["BEGIN", "WITH", "WITH", "COMMIT"]


def test_a_keyed_refusal_stores_its_answer_in_one_statement(
    client, new_user, admin, statements, buckets
):
    product = admin.create_product(stock=16, buckets=buckets)
    _, token = new_user()
    statements()
    response = post(
        client("remove_item"), token, {"product_id": product}, **{"Idempotency-Key": "r-remove"}
    )
    assert response.status_code == 404
    assert statements() == ["BEGIN", "WITH", "WITH", "COMMIT"]
