"""OrderPlaced through the transactional outbox to SQS (moto): exactly once per order."""

from __future__ import annotations

import threading
import uuid

from shared import bootstrap
from shared.adapters.postgres.unit_of_work import PostgresUnitOfWork as UnitOfWork
from shared.config import settings
from shared.service import relay_outbox
from tests.support import place_order, received


def relay_pending() -> dict:
    return relay_outbox.relay_pending(
        bootstrap.unit_of_work(), bootstrap.order_events(), settings().outbox_batch_size
    )


def test_an_order_sends_one_message_with_the_correlation_id(client, new_user, admin, queue):
    order = place_order(client, new_user, admin, **{"X-Correlation-ID": "order-flow-1"})
    messages = received(queue)
    assert len(messages) == 1
    message = messages[0]
    assert message["correlation_id"] == "order-flow-1"
    assert message["event_type"] == "OrderPlaced"
    body = message["body"]
    assert body["type"] == "OrderPlaced" and isinstance(body["event_id"], int)
    assert body["order_id"] == order["order_id"] and body["user_id"] == order["user_id"]
    assert body["total_cents"] == 750 == order["total_cents"]
    assert body["lines"] == [
        {"product_id": order["product_id"], "quantity": 3, "unit_price_cents": 250}
    ]
    assert body["created_at"][:19] == order["created_at"][:19]
    [(sent_at, attempts, last_error)] = admin.outbox_of(order["order_id"])
    assert sent_at is not None and attempts == 1 and last_error is None


def test_with_sqs_failing_checkout_succeeds_and_the_relay_delivers_later(
    client, new_user, admin, queue, env
):
    env(ORDER_EVENTS_QUEUE_URL=queue + "-missing")  # SQS answers: no such queue
    order = place_order(client, new_user, admin)
    [(sent_at, attempts, last_error)] = admin.outbox_of(order["order_id"])
    assert sent_at is None and attempts == 1 and "NonExistentQueue" in last_error

    env(ORDER_EVENTS_QUEUE_URL=queue)
    assert relay_pending()["sent"] >= 1
    assert relay_pending()["sent"] == 0
    mine = [m for m in received(queue) if m["body"]["order_id"] == order["order_id"]]
    assert len(mine) == 1
    [(sent_at, attempts, last_error)] = admin.outbox_of(order["order_id"])
    assert sent_at is not None and attempts == 2 and last_error is None


def test_without_a_queue_events_stay_pending_and_the_relay_logs_them(
    client, new_user, admin, env, caplog
):
    env(ORDER_EVENTS_QUEUE_URL=None, OUTBOX_BATCH_SIZE="1000")
    order = place_order(client, new_user, admin)
    caplog.set_level("INFO", logger="shared.service.relay_outbox")
    counts = relay_pending()
    assert counts["sent"] == 0 and counts["pending"] >= 1
    assert any(order["order_id"] in r.getMessage() for r in caplog.records)
    [(sent_at, attempts, _)] = admin.outbox_of(order["order_id"])
    assert sent_at is None and attempts == 0


def test_the_relay_skips_rows_another_publisher_holds(client, new_user, admin, queue, env):
    env(ORDER_EVENTS_QUEUE_URL=None)
    orders = [place_order(client, new_user, admin)["order_id"] for _ in range(3)]
    env(ORDER_EVENTS_QUEUE_URL=queue, OUTBOX_BATCH_SIZE="1000")
    with UnitOfWork() as holder:  # e.g. a checkout publishing right now
        held = holder.outbox.claim_pending_of_order(uuid.UUID(orders[0]))
        assert len(held) == 1
        relay_pending()
        sent = {m["body"]["order_id"] for m in received(queue)}
        assert orders[0] not in sent and {orders[1], orders[2]} <= sent
    relay_pending()  # the holder let go without sending
    assert [m["body"]["order_id"] for m in received(queue)] == [orders[0]]


def test_two_relays_racing_deliver_each_row_once(client, new_user, admin, queue, env):
    env(ORDER_EVENTS_QUEUE_URL=None)
    orders = {place_order(client, new_user, admin)["order_id"] for _ in range(20)}
    env(ORDER_EVENTS_QUEUE_URL=queue, OUTBOX_BATCH_SIZE="1")
    start, results = threading.Barrier(2), []

    def relay():
        start.wait()
        results.append(relay_pending())

    relays = [threading.Thread(target=relay) for _ in range(2)]
    for thread in relays:
        thread.start()
    for thread in relays:
        thread.join()
    while relay_pending()["sent"]:  # whatever the batch cap left
        pass
    messages = received(queue)
    event_ids = [m["body"]["event_id"] for m in messages]
    assert len(event_ids) == len(set(event_ids)), "a row was sent twice"
    delivered = [m["body"]["order_id"] for m in messages if m["body"]["order_id"] in orders]
    assert sorted(delivered) == sorted(orders)
    assert all(r["sent"] > 0 for r in results), f"the relays did not both work: {results}"
    assert admin.scalar("select count(*) from outbox where sent_at is null") == 0
