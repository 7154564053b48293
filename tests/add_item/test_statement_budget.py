"""How many SQL statements add_item and remove_item sends from BEGIN to COMMIT inclusive, pinned.

Counted from the data layer's DEBUG log, which records every statement it sends (the one path
commands have to the database). Counts, unlike times, do not flake.
"""

from tests.helpers import post


def test_add_and_remove_send_four_statements(client, new_user, admin, statements):
    product = admin.create_product(stock=10)
    _, token = new_user()
    for name in ("add_item", "add_item", "remove_item"):
        statements()
        assert post(client(name), token, {"product_id": product}).status_code == 200
        assert statements() == ["BEGIN", "WITH", "WITH", "COMMIT"]


def test_a_refused_command_rolls_back_after_two(client, new_user, admin, statements):
    product = admin.create_product(stock=1)
    _, token = new_user()
    statements()
    assert (
        post(client("add_item"), token, {"product_id": product, "quantity": 2}).status_code == 409
    )
    assert statements() == ["BEGIN", "WITH", "ROLLBACK"]


# With an Idempotency-Key: the claim rides in the lock statement and the answer in the write
# statement, so a keyed command costs no extra statement.
def test_keyed_commands_send_the_same_four_statements(client, new_user, admin, statements):
    product = admin.create_product(stock=10)
    _, token = new_user()
    for n, name in enumerate(("add_item", "add_item", "remove_item", "checkout")):
        body = {} if name == "checkout" else {"product_id": product}
        statements()
        response = post(client(name), token, body, **{"Idempotency-Key": f"budget-{n}"})
        assert response.status_code == 200
        assert statements() == ["BEGIN", "WITH", "WITH", "COMMIT"]


def test_a_keyed_refusal_rolls_back_then_stores_its_answer(client, new_user, admin, statements):
    """The command's transaction rolls back whole (it created the cart), then the answer is
    inserted in a transaction of its own: a refusal writes nothing but its key."""
    product = admin.create_product(stock=1)
    _, token = new_user()
    statements()
    response = post(
        client("add_item"),
        token,
        {"product_id": product, "quantity": 2},
        **{"Idempotency-Key": "r"},
    )
    assert response.status_code == 409
    assert statements() == ["BEGIN", "WITH", "ROLLBACK", "BEGIN", "INSERT", "COMMIT"]


def test_a_replay_locks_only_its_key_and_rolls_back(client, new_user, admin, statements):
    product = admin.create_product(stock=10)
    _, token = new_user()
    for name, body in [("add_item", {"product_id": product}), ("checkout", {})]:
        post(client(name), token, body, **{"Idempotency-Key": f"replay-{name}"})
        statements()
        replay = post(client(name), token, body, **{"Idempotency-Key": f"replay-{name}"})
        assert replay.headers["Idempotent-Replayed"] == "true"
        assert statements() == ["BEGIN", "WITH", "ROLLBACK"]
