"""How many SQL statements one relay run sends, pinned: per batch, one claim and one record of
what was sent, in one transaction; without a queue, the claim only, rolled back. Then one
read-only transaction measures the backlog for the operators' figures (docs/operations.md).

Counted from the data layer's DEBUG log, which records every statement it sends.
"""

from tests.support import place_order

BACKLOG = ["BEGIN", "SELECT", "ROLLBACK"]


def test_a_relay_without_a_queue_claims_and_rolls_back(client, new_user, admin, env, statements):
    env(ORDER_EVENTS_QUEUE_URL=None, OUTBOX_BATCH_SIZE="1000")
    place_order(client, new_user, admin)
    statements()
    assert client("relay_outbox").post("/").get_json()["pending"] >= 1
    assert statements() == ["BEGIN", "SELECT", "ROLLBACK"] + BACKLOG


def test_a_relay_sends_a_batch_in_four_statements(client, new_user, admin, queue, env, statements):
    env(ORDER_EVENTS_QUEUE_URL=None)
    for _ in range(3):
        place_order(client, new_user, admin)
    env(ORDER_EVENTS_QUEUE_URL=queue, OUTBOX_BATCH_SIZE="1000")
    statements()
    assert client("relay_outbox").post("/").get_json()["sent"] >= 3
    assert statements() == ["BEGIN", "SELECT", "UPDATE", "COMMIT"] + BACKLOG
