"""The add_item use case on the fake unit of work: its own logic, without a database."""

from datetime import timedelta

import pytest

from shared.domain import (
    CartLimitReached,
    CartLimits,
    InsufficientStock,
    InvalidQuantity,
    ProductNotFound,
    PurchaseLimitReached,
    RateLimit,
)
from shared.errors import IdempotencyKeyReused
from shared.service.add_item import add_item
from shared.service.checkout import checkout
from shared.service.idempotency import Replayed, StoredResponse
from shared.service.rules import UNLIMITED, ShopRules
from tests.support import random_id
from tests.unit.fakes import FakeUnitOfWork, new_key


@pytest.fixture
def uow():
    return FakeUnitOfWork()


def test_add_moves_stock_into_a_new_cart_in_one_commit(uow):
    product, user = uow.add_product(stock=10), random_id()
    assert add_item(uow, user, product, 3) == {"product_id": product, "quantity": 3}
    assert (uow.stock(product), uow.in_cart(user, product)) == (7, 3)
    assert (uow.transactions, uow.commits) == (1, 1)
    assert uow.tables.carts[user].expires_at == uow.now + timedelta(minutes=30)


def test_adds_accumulate_and_each_refreshes_the_expiry(uow):
    product, user = uow.add_product(stock=10), random_id()
    add_item(uow, user, product, 3)
    uow.now += timedelta(minutes=20)
    assert add_item(uow, user, product, 2) == {"product_id": product, "quantity": 5}
    assert (uow.stock(product), uow.in_cart(user, product)) == (5, 5)
    assert uow.tables.carts[user].expires_at == uow.now + timedelta(minutes=30)


@pytest.mark.parametrize(
    "quantity, refusal", [(11, InsufficientStock), (0, InvalidQuantity), (-1, InvalidQuantity)]
)
def test_a_refused_add_writes_nothing_not_even_a_cart(uow, quantity, refusal):
    product, user = uow.add_product(stock=10), random_id()
    before = uow.snapshot()
    with pytest.raises(refusal):
        add_item(uow, user, product, quantity)
    assert uow.snapshot() == before and uow.commits == 0


def test_an_unknown_product_writes_nothing(uow):
    before = uow.snapshot()
    with pytest.raises(ProductNotFound):
        add_item(uow, random_id(), 404, 1)
    assert uow.snapshot() == before and uow.commits == 0


def test_a_keyed_add_stores_its_answer_and_a_retry_replays_it(uow):
    product, user = uow.add_product(stock=10), random_id()
    key = new_key(user, "add_item")
    answer = add_item(uow, user, product, 3, key)
    stored = uow.tables.keys[(user, key.value)]
    assert (stored.status, stored.response, stored.fingerprint) == (200, answer, key.fingerprint)
    with pytest.raises(Replayed) as replayed:
        add_item(uow, user, product, 3, key)
    assert replayed.value.response == StoredResponse(200, answer)
    assert (uow.stock(product), uow.in_cart(user, product), uow.commits) == (7, 3, 1)


def test_the_same_key_with_another_request_is_refused(uow):
    product, user = uow.add_product(stock=10), random_id()
    first = new_key(user, "add_item", '{"product_id":1,"quantity":1}')
    add_item(uow, user, product, 1, first)
    before = uow.snapshot()
    other = new_key(user, "add_item", '{"product_id":1,"quantity":2}', value=first.value)
    with pytest.raises(IdempotencyKeyReused):
        add_item(uow, user, product, 2, other)
    assert uow.snapshot() == before


def test_a_keyed_refusal_is_stored_alone_and_stays_refused(uow):
    product, user = uow.add_product(stock=2), random_id()
    key = new_key(user, "add_item")
    with pytest.raises(InsufficientStock) as refused:
        add_item(uow, user, product, 3, key)
    stored = uow.tables.keys[(user, key.value)]
    body = {"error": {"code": "insufficient_stock", "message": str(refused.value)}}
    assert (stored.status, stored.response) == (409, body)
    assert (uow.stock(product), uow.in_cart(user, product), uow.commits) == (2, 0, 1)
    uow.tables.products[product].stock = 10  # stock is back: the same click is still refused
    with pytest.raises(Replayed) as replayed:
        add_item(uow, user, product, 3, key)
    assert replayed.value.response == StoredResponse(409, body)
    assert uow.stock(product) == 10


def test_a_keyed_invalid_quantity_is_not_stored(uow):
    """Validation refusals never reach the database through HTTP; the rule agrees."""
    product, user = uow.add_product(stock=10), random_id()
    with pytest.raises(InvalidQuantity):
        add_item(uow, user, product, 0, new_key(user, "add_item"))
    assert (uow.tables.keys, uow.commits) == ({}, 0)


# --- a drop's rules -------------------------------------------------------------------------


def test_the_purchase_limit_counts_what_the_customer_ordered(uow):
    product, user = uow.add_product(stock=10, max_per_customer=3), random_id()
    add_item(uow, user, product, 2)
    checkout(uow, user, "cid")
    add_item(uow, user, product, 1)
    before = uow.snapshot()
    with pytest.raises(PurchaseLimitReached) as refused:
        add_item(uow, user, product, 1)
    assert refused.value.details == {"limit": 3, "held": 3}
    assert uow.snapshot() == before
    assert add_item(uow, random_id(), product, 3)["quantity"] == 3  # each customer their own


def test_the_cart_caps_come_from_the_rules(uow):
    products = [uow.add_product(stock=10) for _ in range(3)]
    user = random_id()
    rules = ShopRules(CartLimits(max_lines=2, max_units=4), RateLimit(per_minute=0))
    add_item(uow, user, products[0], 1, rules=rules)
    add_item(uow, user, products[1], 1, rules=rules)
    with pytest.raises(CartLimitReached, match="at most 2 lines"):
        add_item(uow, user, products[2], 1, rules=rules)
    with pytest.raises(CartLimitReached, match="at most 4 units"):
        add_item(uow, user, products[0], 3, rules=rules)
    assert add_item(uow, user, products[2], 3, rules=UNLIMITED)["quantity"] == 3


def test_an_add_bigger_than_any_bucket_takes_from_several(uow):
    product, user = uow.add_product(stock=12, buckets=4), random_id()  # 3 a bucket
    add_item(uow, user, product, 7)
    assert uow.buckets(product) == [0, 0, 2, 3]
    assert (uow.stock(product), uow.in_cart(user, product)) == (5, 7)


def test_a_short_partial_hold_runs_again_holding_every_bucket():
    uow = FakeUnitOfWork(partial_holds=True)
    product, user = uow.add_product(stock=12, buckets=4), random_id()
    assert add_item(uow, user, product, 2)["quantity"] == 2  # the bucket held has enough
    assert (uow.transactions, uow.commits) == (1, 1)
    key = new_key(user, "add_item")
    assert add_item(uow, user, product, 5, key)["quantity"] == 7  # it has 1 left
    assert (uow.transactions, uow.commits) == (3, 2)  # the short attempt rolled back
    assert uow.buckets(product) == [0, 0, 2, 3]
    assert uow.tables.keys[(user, key.value)].status == 200


def test_insufficient_stock_is_said_only_after_holding_every_bucket():
    uow = FakeUnitOfWork(partial_holds=True)
    product, user = uow.add_product(stock=12, buckets=4), random_id()
    with pytest.raises(InsufficientStock) as refused:
        add_item(uow, user, product, 13)
    assert refused.value.available == 12  # the whole, not the first bucket's 3
    assert (uow.transactions, uow.commits) == (2, 0)
