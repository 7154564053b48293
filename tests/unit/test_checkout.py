"""The checkout use case on the fake unit of work: the order, its event, and publishing it."""

import logging
import uuid

import pytest

from shared.domain import CartEmpty
from shared.service.add_item import add_item
from shared.service.checkout import checkout
from shared.service.idempotency import Replayed, StoredResponse
from tests.support import random_id
from tests.unit.fakes import FakePublisher, FakeUnitOfWork, new_key


@pytest.fixture
def uow():
    return FakeUnitOfWork()


def filled_cart(uow) -> tuple[uuid.UUID, int, int]:
    """A user with 3 of a product at 250 and 1 of another at 1999 in the cart."""
    cheap, dear = uow.add_product(price_cents=250), uow.add_product(price_cents=1999)
    user = random_id()
    add_item(uow, user, dear, 1)
    add_item(uow, user, cheap, 3)
    return user, cheap, dear


def test_checkout_places_the_order_at_todays_prices_and_empties_the_cart(uow):
    user, cheap, dear = filled_cart(uow)
    stock_before = (uow.stock(cheap), uow.stock(dear))
    order = checkout(uow, user, "checkout-cid")
    order_id = uuid.UUID(order["order_id"])
    assert order == {
        "order_id": str(order_id),
        "status": "placed",
        "total_cents": 3 * 250 + 1999,
        "created_at": uow.now.isoformat(),
        "lines": [
            {
                "product_id": product,
                "name": f"p{product}",
                "quantity": quantity,
                "unit_price_cents": price,
                "line_total_cents": quantity * price,
            }
            for product, quantity, price in sorted([(cheap, 3, 250), (dear, 1, 1999)])
        ],
    }
    stored = uow.tables.orders[order_id]
    assert (stored["user_id"], stored["total_cents"], stored["correlation_id"]) == (
        user,
        2749,
        "checkout-cid",
    )
    assert uow.tables.carts[user].lines == {}
    assert (uow.stock(cheap), uow.stock(dear)) == stock_before  # taken once, at add time
    [event] = uow.tables.outbox.values()
    assert (event.order_id, event.correlation_id, event.sent_at) == (order_id, "checkout-cid", None)
    assert event.payload["type"] == "OrderPlaced" and event.payload["total_cents"] == 2749


def test_an_empty_cart_cannot_be_checked_out(uow):
    user = random_id()
    before = uow.snapshot()
    with pytest.raises(CartEmpty):
        checkout(uow, user, "cid")
    assert uow.snapshot() == before and uow.commits == 0
    other, _, _ = filled_cart(uow)
    checkout(uow, other, "cid")  # another user's cart is not this one's
    with pytest.raises(CartEmpty):
        checkout(uow, user, "cid")


def test_the_event_is_published_after_the_order_committed(uow):
    user, _, _ = filled_cart(uow)
    committed_when_sent = []
    publisher = FakePublisher(
        on_send=lambda events: committed_when_sent.extend(
            uuid.UUID(e.payload["order_id"]) in uow.tables.orders for e in events
        )
    )
    order = checkout(uow, user, "cid", publisher=publisher)
    assert committed_when_sent == [True]
    assert [e.payload["order_id"] for e in publisher.sent] == [order["order_id"]]
    [event] = uow.tables.outbox.values()
    assert (event.sent_at, event.attempts, event.last_error) == (uow.now, 1, None)


def test_a_failed_send_leaves_the_event_pending_with_its_reason(uow):
    user, _, _ = filled_cart(uow)
    order = checkout(uow, user, "cid", publisher=FakePublisher(error="NonExistentQueue"))
    assert uuid.UUID(order["order_id"]) in uow.tables.orders
    [event] = uow.tables.outbox.values()
    assert (event.sent_at, event.attempts, event.last_error) == (None, 1, "NonExistentQueue")


def test_a_publisher_that_raises_leaves_the_event_to_the_relay(uow, caplog):
    user, _, _ = filled_cart(uow)
    publisher = FakePublisher(raises=ConnectionError("queue unreachable"))
    order = checkout(uow, user, "cid", publisher=publisher)
    assert uuid.UUID(order["order_id"]) in uow.tables.orders
    [event] = uow.tables.outbox.values()
    assert (event.sent_at, event.attempts) == (None, 0)  # its attempt rolled back
    assert any(
        r.levelno == logging.WARNING and "left pending for relay-outbox" in r.getMessage()
        for r in caplog.records
    )


def test_without_a_publisher_the_event_waits_in_the_outbox(uow):
    user, _, _ = filled_cart(uow)
    transactions = uow.transactions
    checkout(uow, user, "cid")
    assert uow.transactions == transactions + 1
    [event] = uow.tables.outbox.values()
    assert (event.sent_at, event.attempts) == (None, 0)


def test_a_keyed_checkout_places_one_order_and_publishes_once(uow):
    user, _, _ = filled_cart(uow)
    key, publisher = new_key(user, "checkout"), FakePublisher()
    order = checkout(uow, user, "cid", key, publisher)
    with pytest.raises(Replayed) as replayed:
        checkout(uow, user, "retry-cid", key, publisher)
    assert replayed.value.response == StoredResponse(200, order)
    assert len(uow.tables.orders) == 1 and len(publisher.batches) == 1


def test_a_keyed_empty_cart_is_stored(uow):
    user = random_id()
    key = new_key(user, "checkout")
    with pytest.raises(CartEmpty):
        checkout(uow, user, "cid", key)
    assert uow.tables.keys[(user, key.value)].status == 409
    with pytest.raises(Replayed):
        checkout(uow, user, "cid", key)
