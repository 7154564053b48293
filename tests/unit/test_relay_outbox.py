"""The outbox relay on the fake unit of work: batches, failures, and no queue at all."""

import logging
import uuid

import pytest

from shared.service import relay_outbox
from shared.service.add_item import add_item
from shared.service.checkout import checkout
from tests.support import random_id
from tests.unit.fakes import FakePublisher, FakeUnitOfWork


@pytest.fixture
def uow():
    return FakeUnitOfWork()


def place_orders(uow, count: int) -> list[str]:
    """`count` orders whose events wait in the outbox (no publisher at checkout)."""
    product, orders = uow.add_product(stock=1000), []
    for _ in range(count):
        user = random_id()
        add_item(uow, user, product, 1)
        orders.append(checkout(uow, user, f"cid-{user}")["order_id"])
    return orders


def pending(uow) -> list[str]:
    return [r.payload["order_id"] for r in uow.tables.outbox.values() if r.sent_at is None]


def test_without_a_publisher_nothing_changes_and_the_events_are_logged(uow, caplog):
    orders = place_orders(uow, 3)
    before = uow.snapshot()
    caplog.set_level(logging.INFO, logger="shared.service.relay_outbox")
    assert relay_outbox.relay_pending(uow, None, 50) == {"sent": 0, "failed": 0, "pending": 3}
    assert uow.snapshot() == before  # rolled back: not even an attempt is counted
    assert all(order in caplog.text for order in orders)


def test_pending_events_are_sent_in_batches_oldest_first(uow):
    orders = place_orders(uow, 5)
    publisher = FakePublisher()
    assert relay_outbox.relay_pending(uow, publisher, 2) == {"sent": 5, "failed": 0, "pending": 0}
    assert [len(batch) for batch in publisher.batches] == [2, 2, 1]
    assert [e.payload["order_id"] for e in publisher.sent] == orders
    assert pending(uow) == []
    assert {(r.attempts, r.last_error) for r in uow.tables.outbox.values()} == {(1, None)}
    assert relay_outbox.relay_pending(uow, publisher, 2) == {"sent": 0, "failed": 0, "pending": 0}
    assert len(publisher.batches) == 3  # nothing left: no call at all


def test_a_failed_batch_is_recorded_and_ends_the_run(uow):
    orders = place_orders(uow, 3)
    counts = relay_outbox.relay_pending(uow, FakePublisher(error="Throttled"), 2)
    assert counts == {"sent": 0, "failed": 2, "pending": 0}
    rows = sorted(uow.tables.outbox.values(), key=lambda r: r.id)
    assert [(r.attempts, r.last_error) for r in rows] == [(1, "Throttled")] * 2 + [(0, None)]
    assert pending(uow) == orders  # all left for the next run


def test_a_run_sends_at_most_its_cap_of_batches(uow):
    place_orders(uow, relay_outbox.MAX_BATCHES_PER_RELAY + 1)
    counts = relay_outbox.relay_pending(uow, FakePublisher(), 1)
    assert counts["sent"] == relay_outbox.MAX_BATCHES_PER_RELAY
    assert len(pending(uow)) == 1


def test_publish_order_sends_only_that_orders_event(uow):
    first, second = place_orders(uow, 2)
    publisher = FakePublisher()
    relay_outbox.publish_order(uow, publisher, uuid.UUID(second))
    assert [e.payload["order_id"] for e in publisher.sent] == [second]
    assert pending(uow) == [first]


def test_publish_order_never_raises(uow, caplog):
    [order] = place_orders(uow, 1)
    relay_outbox.publish_order(uow, FakePublisher(raises=TimeoutError()), uuid.UUID(order))
    assert pending(uow) == [order] and "left pending" in caplog.text
