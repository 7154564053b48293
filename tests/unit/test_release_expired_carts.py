"""The expiry sweep on the fake unit of work: batches, its time budget, old keys, its counts."""

import logging
from datetime import timedelta

import pytest

from shared.service.add_item import add_item
from shared.service.release_expired_carts import release_expired_carts
from tests.support import random_id
from tests.unit.fakes import FakeUnitOfWork, StoredKey

NOTHING = {
    "released_carts": 0,
    "released_units": 0,
    "deleted_idempotency_keys": 0,
    "finished": True,
}


@pytest.fixture
def uow():
    return FakeUnitOfWork()


def expired_carts(uow, count: int, product: int) -> list:
    users = [random_id() for _ in range(count)]
    for user in users:
        add_item(uow, user, product, 2)
        uow.expire_cart(user)
    return users


def test_expiry_releases_exactly_what_was_held(uow, caplog):
    first, second = uow.add_product(stock=10), uow.add_product(stock=10)
    gone, kept = random_id(), random_id()
    add_item(uow, gone, first, 3)
    add_item(uow, gone, second, 2)
    add_item(uow, kept, first, 4)
    uow.expire_cart(gone)
    caplog.set_level(logging.INFO, logger="shared.service.release_expired_carts")
    assert release_expired_carts(uow) == {**NOTHING, "released_carts": 1, "released_units": 5}
    assert (uow.stock(first), uow.stock(second)) == (6, 10)
    assert gone not in uow.tables.carts and uow.in_cart(kept, first) == 4
    assert "released 5 units from 1 expired carts" in caplog.text
    assert release_expired_carts(uow) == NOTHING  # idempotent: nothing more to give back


def test_a_cart_expires_when_its_ttl_has_passed_since_the_last_command(uow):
    product, user = uow.add_product(stock=10), random_id()
    add_item(uow, user, product, 1)
    uow.now += timedelta(minutes=29)
    assert release_expired_carts(uow) == NOTHING
    uow.now += timedelta(minutes=1)
    assert release_expired_carts(uow)["released_carts"] == 1


def test_batches_run_until_one_comes_back_short(uow):
    product = uow.add_product(stock=100)
    expired_carts(uow, 5, product)
    transactions, commits = uow.transactions, uow.commits
    assert release_expired_carts(uow, cart_batch=2, key_batch=2)["released_units"] == 10
    # Carts in 3 batches (2, 2, 1), then one batch of keys: each its own transaction.
    assert (uow.transactions - transactions, uow.commits - commits) == (4, 4)
    assert uow.stock(product) == 100


class Clock:
    """Each batch takes `step` seconds of the sweep's budget."""

    def __init__(self, step: float):
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def test_a_run_stops_when_its_time_is_up_and_the_next_run_goes_on(uow):
    product = uow.add_product(stock=100)
    expired_carts(uow, 5, product)
    # Budget 10 s, 6 s a batch: two batches of carts, then the keys' one batch.
    first = release_expired_carts(uow, budget_seconds=10, cart_batch=2, clock=Clock(6))
    assert (first["released_carts"], first["finished"]) == (4, False)
    second = release_expired_carts(uow, budget_seconds=10, cart_batch=2, clock=Clock(1))
    assert (second["released_carts"], second["finished"]) == (1, True)


def test_a_big_backlog_goes_in_one_run_when_time_allows(uow):
    """What MAX_BATCHES used to stop: here 60 batches, inside one run's budget."""
    product = uow.add_product(stock=1000)
    expired_carts(uow, 120, product)
    result = release_expired_carts(uow, budget_seconds=40, cart_batch=2, clock=Clock(0.1))
    assert (result["released_carts"], result["finished"]) == (120, True)
    assert uow.stock(product) == 1000


def test_idempotency_keys_older_than_a_day_are_deleted_in_batches(uow):
    user = random_id()
    for n, hours in enumerate([25, 26, 30, 23]):
        created = uow.now - timedelta(hours=hours)
        uow.tables.keys[(user, f"k{n}")] = StoredKey("f", created, 200, {})
    assert release_expired_carts(uow, key_batch=2)["deleted_idempotency_keys"] == 3
    assert list(uow.tables.keys) == [(user, "k3")]


def test_a_run_that_empties_the_backlog_past_its_budget_has_finished(uow):
    """Finished means nothing is left for the next run, not that time was left."""
    product = uow.add_product(stock=100)
    expired_carts(uow, 3, product)
    result = release_expired_carts(uow, budget_seconds=1, cart_batch=2, clock=Clock(6))
    assert (result["released_carts"], result["finished"]) == (2, False)
    result = release_expired_carts(uow, budget_seconds=1, cart_batch=2, clock=Clock(6))
    assert (result["released_carts"], result["finished"]) == (1, True)
