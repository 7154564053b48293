"""How many SQL statements add_item sends from BEGIN to COMMIT inclusive, pinned.

Counted from the data layer's DEBUG log, which records every statement it sends (the one path
commands have to the database). Counts, unlike times, do not flake. Each count holds whether
the product's stock lives in one row or in 8 buckets (sql/16_stock_buckets.sql).
"""

import pytest

from tests.support import post

pytestmark = pytest.mark.parametrize("buckets", [1, 8], ids=["N=1", "N=8"])


def test_an_add_sends_four_statements(client, new_user, admin, statements, buckets):
    product = admin.create_product(stock=16, buckets=buckets)
    _, token = new_user()
    for _ in range(2):  # a new cart, then an existing one
        statements()
        assert post(client("add_item"), token, {"product_id": product}).status_code == 200
        assert statements() == ["BEGIN", "WITH", "WITH", "COMMIT"]


def test_an_add_from_several_buckets_sends_four_statements(
    client, new_user, admin, statements, buckets
):
    """More than any one bucket holds: the lock statement takes them all at once."""
    product = admin.create_product(stock=16, buckets=buckets)
    _, token = new_user()
    statements()
    response = post(client("add_item"), token, {"product_id": product, "quantity": 9})
    assert response.status_code == 200
    assert statements() == ["BEGIN", "WITH", "WITH", "COMMIT"]


def test_a_refused_command_rolls_back_after_two(client, new_user, admin, statements, buckets):
    product = admin.create_product(stock=1, buckets=buckets)
    _, token = new_user()
    statements()
    assert (
        post(client("add_item"), token, {"product_id": product, "quantity": 2}).status_code == 409
    )
    assert statements() == ["BEGIN", "WITH", "ROLLBACK"]


# With an Idempotency-Key: the claim rides in the lock statement and the answer in the write
# statement, so a keyed command costs no extra statement.
def test_a_keyed_add_sends_the_same_four_statements(client, new_user, admin, statements, buckets):
    product = admin.create_product(stock=16, buckets=buckets)
    _, token = new_user()
    for n in range(2):
        statements()
        response = post(
            client("add_item"), token, {"product_id": product}, **{"Idempotency-Key": f"budget-{n}"}
        )
        assert response.status_code == 200
        assert statements() == ["BEGIN", "WITH", "WITH", "COMMIT"]


def test_a_keyed_refusal_stores_its_answer_in_one_statement(
    client, new_user, admin, statements, buckets
):
    product = admin.create_product(stock=1, buckets=buckets)
    _, token = new_user()
    statements()
    response = post(
        client("add_item"),
        token,
        {"product_id": product, "quantity": 2},
        **{"Idempotency-Key": "r"},
    )
    assert response.status_code == 409
    # One statement stores the answer (and takes back a cart the command made).
    assert statements() == ["BEGIN", "WITH", "WITH", "COMMIT"]


def test_a_replay_locks_only_its_key_and_rolls_back(client, new_user, admin, statements, buckets):
    product = admin.create_product(stock=16, buckets=buckets)
    _, token = new_user()
    body, key = {"product_id": product}, {"Idempotency-Key": "replay-add_item"}
    post(client("add_item"), token, body, **key)
    statements()
    replay = post(client("add_item"), token, body, **key)
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert statements() == ["BEGIN", "WITH", "ROLLBACK"]
