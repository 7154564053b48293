"""The rules of a drop in the domain, no I/O: stock held in buckets, the purchase limit per
customer and the cart's caps, in the order they are checked (shared/domain/services.py)."""

import pytest

from shared.domain import (
    Cart,
    CartItem,
    CartLimitReached,
    CartLimits,
    InsufficientStock,
    Product,
    PurchaseLimitReached,
    StockNotAllHeld,
    add_item_to_cart,
    remove_item_from_cart,
)
from tests.support import random_id


def product(buckets=None, stock=0, limit=None, holds_all_stock=True, id=1):
    return Product(
        id,
        f"p{id}",
        250,
        stock,
        max_per_customer=limit,
        buckets=dict(buckets or {}),
        holds_all_stock=holds_all_stock,
    )


# --- stock in buckets ----------------------------------------------------------------------


def test_a_product_without_buckets_holds_its_stock_in_bucket_0():
    p = product(stock=7)
    assert (p.buckets, p.stock, p.changes) == ({0: 7}, 7, {})


def test_stock_is_the_sum_of_the_buckets_held():
    assert product({0: 2, 3: 5, 6: 1}).stock == 8


def test_take_empties_buckets_in_ascending_order_and_records_each_change():
    p = product({5: 4, 0: 1, 2: 3})
    p.take(6)
    assert p.buckets == {0: 0, 2: 0, 5: 2}
    assert p.changes == {0: -1, 2: -3, 5: -2}  # what the repository writes back, per bucket
    assert p.stock == 2


def test_take_touches_no_bucket_it_does_not_need():
    p = product({0: 5, 1: 5})
    p.take(5)
    assert p.changes == {0: -5}


def test_give_back_goes_to_the_first_bucket_held_and_adds_up():
    p = product({3: 0, 7: 2})
    p.give_back(2)
    p.give_back(1)
    assert (p.buckets, p.changes, p.stock) == ({3: 3, 7: 2}, {3: 3}, 5)


def test_a_partial_hold_that_falls_short_asks_for_all_buckets_never_refuses():
    cart = Cart(random_id())
    p = product({4: 2}, holds_all_stock=False)
    with pytest.raises(StockNotAllHeld):
        add_item_to_cart(cart, p, 3)
    assert (p.buckets, p.changes, cart.items) == ({4: 2}, {}, {})


def test_only_a_hold_of_every_bucket_says_insufficient_stock():
    cart = Cart(random_id())
    p = product({0: 1, 1: 1, 2: 0})
    with pytest.raises(InsufficientStock) as refused:
        add_item_to_cart(cart, p, 3)
    assert (refused.value.available, refused.value.requested) == (2, 3)
    assert (p.changes, cart.items) == ({}, {})


def test_a_partial_hold_that_is_enough_serves_the_add():
    cart = Cart(random_id())
    p = product({6: 4}, holds_all_stock=False)
    add_item_to_cart(cart, p, 3)
    assert (p.changes, cart.quantity_of(1)) == ({6: -3}, 3)


def test_remove_gives_back_to_the_bucket_held():
    cart = Cart(random_id(), {1: CartItem(1, 3)})
    p = product({5: 0}, holds_all_stock=False)
    remove_item_from_cart(cart, p, 2)
    assert (p.changes, cart.quantity_of(1)) == ({5: 2}, 1)


# --- the purchase limit ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "in_cart, ordered, quantity, allowed",
    [
        (0, 0, 2, True),
        (0, 0, 3, False),
        (1, 0, 1, True),
        (1, 1, 1, False),  # orders count as well as the cart
        (0, 2, 1, False),
        (0, 1, 1, True),
    ],
)
def test_the_purchase_limit_counts_the_cart_and_the_orders(in_cart, ordered, quantity, allowed):
    cart = Cart(random_id(), {1: CartItem(1, in_cart)} if in_cart else {})
    cart.ordered_units[1] = ordered
    p = product({0: 10}, limit=2)
    if allowed:
        add_item_to_cart(cart, p, quantity)
        assert cart.quantity_of(1) == in_cart + quantity
        return
    with pytest.raises(PurchaseLimitReached) as refused:
        add_item_to_cart(cart, p, quantity)
    assert refused.value.details == {"limit": 2, "held": in_cart + ordered}
    assert (p.stock, p.changes, cart.quantity_of(1)) == (10, {}, in_cart)


def test_no_limit_is_none_not_zero():
    cart = Cart(random_id())
    cart.ordered_units[1] = 500
    add_item_to_cart(cart, product({0: 1000}, limit=None), 400)
    assert cart.quantity_of(1) == 400


# --- the cart's caps ----------------------------------------------------------------------


def cart_with(lines: int, units_each: int = 1, other_lines=0, other_units=0) -> Cart:
    cart = Cart(random_id(), other_lines=other_lines, other_units=other_units)
    for n in range(lines):
        cart.items[100 + n] = CartItem(100 + n, units_each)
    return cart


def test_a_new_line_past_max_lines_is_refused_with_the_setting():
    cart = cart_with(0, other_lines=2, other_units=2)  # lines the command did not load count
    with pytest.raises(CartLimitReached) as refused:
        add_item_to_cart(cart, product({0: 9}), 1, limits=CartLimits(max_lines=2, max_units=0))
    assert refused.value.details == {"limit": 2, "limit_of": "lines"}


def test_more_of_a_line_already_there_is_not_a_new_line():
    cart = Cart(random_id(), {1: CartItem(1, 1)}, other_lines=1)
    add_item_to_cart(cart, product({0: 9}), 1, limits=CartLimits(max_lines=2, max_units=0))
    assert cart.quantity_of(1) == 2


def test_units_past_max_units_are_refused_with_the_setting():
    cart = Cart(random_id(), {1: CartItem(1, 3)}, other_units=5)
    p = product({0: 9})
    add_item_to_cart(cart, p, 2, limits=CartLimits(max_lines=0, max_units=10))  # exactly 10
    with pytest.raises(CartLimitReached) as refused:
        add_item_to_cart(cart, p, 1, limits=CartLimits(max_lines=0, max_units=10))
    assert refused.value.details == {"limit": 10, "limit_of": "units"}
    assert (cart.quantity_of(1), p.stock) == (5, 7)


def test_zero_turns_each_cap_off():
    cart = cart_with(60, other_units=1000)
    add_item_to_cart(cart, product({0: 9}), 5, limits=CartLimits(max_lines=0, max_units=0))
    assert cart.quantity_of(1) == 5


def test_without_limits_given_a_cart_has_no_caps():
    cart = cart_with(0, other_lines=500, other_units=5000)
    add_item_to_cart(cart, product({0: 9}), 1)
    assert cart.quantity_of(1) == 1


# --- which rule speaks first --------------------------------------------------------------


def test_the_customers_own_limits_are_checked_before_the_stock():
    """A customer at their limit hears about their limit, even when the product is sold out
    (and a partial hold is not retried for a command the limit refuses anyway)."""
    cart = Cart(random_id(), {1: CartItem(1, 2)})
    with pytest.raises(PurchaseLimitReached):
        add_item_to_cart(cart, product({0: 0}, limit=2), 1)
    with pytest.raises(PurchaseLimitReached):
        add_item_to_cart(cart, product({3: 0}, limit=2, holds_all_stock=False), 1)
    with pytest.raises(CartLimitReached):
        add_item_to_cart(
            Cart(random_id(), other_lines=1), product({0: 0}), 1, limits=CartLimits(1, 0)
        )


def test_the_purchase_limit_is_checked_before_the_caps():
    cart = Cart(random_id(), {1: CartItem(1, 2)}, other_units=98)
    with pytest.raises(PurchaseLimitReached):
        add_item_to_cart(cart, product({0: 9}, limit=2), 1, limits=CartLimits(50, 100))
