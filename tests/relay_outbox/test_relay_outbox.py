"""relay_outbox on the real database and SQS (moto), through functions-framework and its Lambda
handler: it delivers what checkout left pending, and keeps what it cannot send."""

from tests.support import place_order, received


def test_the_relay_delivers_what_checkout_left_pending(invoke, client, new_user, admin, queue, env):
    env(ORDER_EVENTS_QUEUE_URL=None)  # checkout cannot publish: the event waits in the outbox
    order = place_order(client, new_user, admin, **{"X-Correlation-ID": "relay-flow-1"})
    assert [attempts for _, attempts, _ in admin.outbox_of(order["order_id"])] == [0]

    env(ORDER_EVENTS_QUEUE_URL=queue, OUTBOX_BATCH_SIZE="1000")
    answer = invoke("relay_outbox")
    assert answer.status == 200 and answer.json["sent"] >= 1
    assert answer.json["failed"] == answer.json["pending"] == 0
    [message] = [m for m in received(queue) if m["body"]["order_id"] == order["order_id"]]
    assert (message["correlation_id"], message["event_type"]) == ("relay-flow-1", "OrderPlaced")
    [(sent_at, attempts, last_error)] = admin.outbox_of(order["order_id"])
    assert sent_at is not None and attempts == 1 and last_error is None
    assert invoke("relay_outbox").json == {"sent": 0, "failed": 0, "pending": 0}


def test_without_a_queue_events_stay_pending(invoke, client, new_user, admin, env):
    env(ORDER_EVENTS_QUEUE_URL=None, OUTBOX_BATCH_SIZE="1000")
    order = place_order(client, new_user, admin)
    answer = invoke("relay_outbox")
    assert answer.status == 200
    assert answer.json["sent"] == answer.json["failed"] == 0 and answer.json["pending"] >= 1
    [(sent_at, attempts, _)] = admin.outbox_of(order["order_id"])
    assert sent_at is None and attempts == 0


def test_a_queue_that_refuses_keeps_the_event_and_its_reason(
    invoke, client, new_user, admin, queue, env
):
    env(ORDER_EVENTS_QUEUE_URL=None)
    order = place_order(client, new_user, admin)
    env(ORDER_EVENTS_QUEUE_URL=queue + "-missing", OUTBOX_BATCH_SIZE="1000")  # no such queue
    answer = invoke("relay_outbox")
    assert answer.status == 200  # a send that failed is counted, not a failed run
    assert answer.json["sent"] == 0 and answer.json["failed"] >= 1
    [(sent_at, attempts, last_error)] = admin.outbox_of(order["order_id"])
    assert sent_at is None and attempts == 1 and "NonExistentQueue" in last_error
