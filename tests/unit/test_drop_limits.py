"""A drop's limits across the use cases, on the fake unit of work: one rate-limit budget for
add, remove and checkout; what a refused command writes (nothing, or its stored answer and the
token it spent); and what it renews (nothing). Stock in buckets through remove and the sweep."""

from datetime import timedelta

import pytest

from shared.domain import (
    CartEmpty,
    CartLimitReached,
    CartLimits,
    InsufficientStock,
    ItemNotInCart,
    ProductNotFound,
    PurchaseLimitReached,
    RateLimit,
    RateLimited,
)
from shared.service.add_item import add_item
from shared.service.checkout import checkout
from shared.service.release_expired_carts import release_expired_carts
from shared.service.remove_item import remove_item
from shared.service.rules import ShopRules
from tests.support import random_id
from tests.unit.fakes import FakeUnitOfWork, new_key

TEN_SECONDS_A_TOKEN = ShopRules(CartLimits(max_lines=2, max_units=5), RateLimit(6, burst=3))


@pytest.fixture
def uow():
    return FakeUnitOfWork()


def test_one_budget_for_all_three_commands(uow):
    rules = TEN_SECONDS_A_TOKEN
    product, user = uow.add_product(stock=10), random_id()
    add_item(uow, user, product, 2, rules=rules)
    remove_item(uow, user, product, 1, rules=rules)
    checkout(uow, user, "cid", rules=rules)
    before = uow.snapshot()
    for command in (
        lambda key: add_item(uow, user, product, 1, key, rules=rules),
        lambda key: remove_item(uow, user, product, 1, key, rules=rules),
        lambda key: checkout(uow, user, "cid", key, rules=rules),
    ):
        with pytest.raises(RateLimited) as refused:
            command(new_key(user, "any"))
        assert refused.value.retry_after_seconds == 10
    assert uow.snapshot() == before  # not stored under its key, not a token spent
    add_item(uow, random_id(), product, 1, rules=rules)  # another customer's own budget
    uow.now += timedelta(seconds=10)
    add_item(uow, user, product, 1, rules=rules)  # a token came back
    with pytest.raises(RateLimited):
        add_item(uow, user, product, 1, rules=rules)


def test_a_refusal_spends_no_token_keyed_or_not(uow):
    rules = TEN_SECONDS_A_TOKEN
    product, user = uow.add_product(stock=4), random_id()
    add_item(uow, user, product, 1, rules=rules)  # creates the cart: 2 tokens left
    for _ in range(5):  # rolled back: nothing written, no token spent
        with pytest.raises(InsufficientStock):
            add_item(uow, user, product, 4, rules=rules)
    for _ in range(5):  # stored under a key: only the answer is kept, no token spent
        with pytest.raises(InsufficientStock):
            add_item(uow, user, product, 4, new_key(user, "add_item"), rules=rules)
    add_item(uow, user, product, 1, rules=rules)  # the second token
    add_item(uow, user, product, 1, rules=rules)  # the third
    with pytest.raises(RateLimited):
        add_item(uow, user, product, 1, rules=rules)  # none left: only successes spent them


# (name, refusal, command(uow, user, products, key))
REFUSALS = [
    ("product_not_found", ProductNotFound, lambda uow, u, p, k: add_item(uow, u, 9999, 1, k)),
    ("remove_unknown", ProductNotFound, lambda uow, u, p, k: remove_item(uow, u, 9999, 1, k)),
    (
        "item_not_in_cart",
        ItemNotInCart,
        lambda uow, u, p, k: remove_item(uow, u, p["other"], 1, k),
    ),
    (
        "insufficient_stock",
        InsufficientStock,
        lambda uow, u, p, k: add_item(uow, u, p["scarce"], 2, k),
    ),
    (
        "purchase_limit_reached",
        PurchaseLimitReached,
        lambda uow, u, p, k: add_item(uow, u, p["limited"], 2, k),
    ),
    (
        "cart_limit_reached",
        CartLimitReached,
        lambda uow, u, p, k: add_item(uow, u, p["other"], 3, k, rules=TEN_SECONDS_A_TOKEN),
    ),
    (
        "rate_limited",
        RateLimited,
        lambda uow, u, p, k: add_item(uow, out_of_tokens(uow, u), p["held"], 1, k),
    ),
]


def out_of_tokens(uow, user):
    """The customer spent their last token just now."""
    stored = uow.tables.carts[user]
    stored.rate_tokens, stored.rate_counted_at = 0.0, uow.now
    return user


def arranged(uow):
    """A customer holding one line of 3, the cart expiring in 5 minutes, and products to be
    refused on."""
    products = {
        "held": uow.add_product(stock=10),
        "other": uow.add_product(stock=10),
        "scarce": uow.add_product(stock=1),
        "limited": uow.add_product(stock=10, max_per_customer=1),
    }
    user = random_id()
    add_item(uow, user, products["held"], 3)
    add_item(uow, user, products["other"], 1)
    remove_item(uow, user, products["other"], 1)
    uow.tables.carts[user].expires_at = uow.now + timedelta(minutes=5)
    return user, products


@pytest.mark.parametrize("keyed", [False, True], ids=["unkeyed", "keyed"])
@pytest.mark.parametrize("name, refusal, command", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_a_refused_command_renews_nothing(uow, name, refusal, command, keyed):
    user, products = arranged(uow)
    uow.now += timedelta(minutes=1)
    expires_at = uow.tables.carts[user].expires_at
    key = new_key(user, name) if keyed else None
    with pytest.raises(refusal):
        command(uow, user, products, key)
    assert uow.tables.carts[user].expires_at == expires_at
    assert uow.in_cart(user, products["held"]) == 3
    stored = (user, key.value) in uow.tables.keys if keyed else False
    assert stored == (keyed and refusal is not RateLimited)  # a 429 is not stored


def test_an_empty_cart_at_checkout_renews_nothing(uow):
    user, products = arranged(uow)
    remove_item(uow, user, products["held"], 3)
    expires_at = uow.tables.carts[user].expires_at
    uow.now += timedelta(minutes=1)
    with pytest.raises(CartEmpty):
        checkout(uow, user, "cid", new_key(user, "checkout"))
    assert uow.tables.carts[user].expires_at == expires_at


def test_a_success_renews_the_reservation(uow):
    user, products = arranged(uow)
    uow.now += timedelta(minutes=1)
    add_item(uow, user, products["other"], 1)
    assert uow.tables.carts[user].expires_at == uow.now + timedelta(minutes=30)


def test_a_remove_gives_units_back_to_a_bucket(uow):
    product, user = uow.add_product(stock=8, buckets=4), random_id()  # 2 a bucket
    add_item(uow, user, product, 3)
    assert uow.buckets(product) == [0, 1, 2, 2]
    remove_item(uow, user, product, 2)
    assert uow.buckets(product) == [2, 1, 2, 2]  # the first bucket held (here, all are)


def test_the_sweep_spreads_units_over_the_buckets(uow):
    product = uow.add_product(stock=40, buckets=4)  # 10 a bucket
    for quantity in (7, 2):
        user = random_id()
        add_item(uow, user, product, quantity)
        uow.expire_cart(user)
    assert uow.buckets(product) == [1, 10, 10, 10]
    assert release_expired_carts(uow)["released_units"] == 9
    assert uow.buckets(product) == [1 + 3, 12, 12, 12]  # 9 = 3 + 2 + 2 + 2
