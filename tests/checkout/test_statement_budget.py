"""How many SQL statements checkout sends from BEGIN to COMMIT inclusive, pinned.

Counted from the data layer's DEBUG log, which records every statement it sends (the one path
commands have to the database). Counts, unlike times, do not flake.
"""

import pytest

from tests.support import post


@pytest.mark.parametrize("lines", [1, 7])
def test_checkout_sends_four_statements_whatever_the_number_of_lines(
    client, new_user, admin, statements, lines
):
    user, token = new_user()
    for _ in range(lines):
        admin.put_in_cart(user, admin.create_product(stock=5))
    statements()
    response = post(client("checkout"), token, {})
    assert response.status_code == 200 and len(response.get_json()["lines"]) == lines
    assert statements() == ["BEGIN", "WITH", "WITH", "COMMIT"]


# With an Idempotency-Key: the claim rides in the lock statement and the answer in the write
# statement, so a keyed command costs no extra statement.
def test_a_keyed_checkout_sends_the_same_four_statements(client, new_user, admin, statements):
    user, token = new_user()
    admin.put_in_cart(user, admin.create_product(stock=5))
    statements()
    response = post(client("checkout"), token, {}, **{"Idempotency-Key": "budget-3"})
    assert response.status_code == 200
    assert statements() == ["BEGIN", "WITH", "WITH", "COMMIT"]


def test_a_replay_locks_only_its_key_and_rolls_back(client, new_user, admin, statements):
    user, token = new_user()
    admin.put_in_cart(user, admin.create_product(stock=5))
    post(client("checkout"), token, {}, **{"Idempotency-Key": "replay-checkout"})
    statements()
    replay = post(client("checkout"), token, {}, **{"Idempotency-Key": "replay-checkout"})
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert statements() == ["BEGIN", "WITH", "ROLLBACK"]
