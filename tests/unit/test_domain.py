"""Domain services, no I/O: the rules themselves."""

import pytest

from shared.domain import (
    Cart,
    CartEmpty,
    CartItem,
    InsufficientStock,
    InvalidQuantity,
    ItemNotInCart,
    Product,
    add_item_to_cart,
    checkout,
    remove_item_from_cart,
)
from tests.support import random_id


def product(stock=10, price=250, id=1):
    return Product(id=id, name=f"p{id}", price_cents=price, stock=stock)


def test_add_moves_stock_into_the_cart():
    cart, p = Cart(random_id()), product(stock=10)
    item = add_item_to_cart(cart, p, 3)
    assert (item.quantity, p.stock) == (3, 7)
    add_item_to_cart(cart, p, 2)
    assert (cart.quantity_of(1), p.stock) == (5, 5)


def test_add_more_than_stock_changes_nothing():
    cart, p = Cart(random_id()), product(stock=2)
    with pytest.raises(InsufficientStock) as raised:
        add_item_to_cart(cart, p, 3)
    assert (raised.value.available, raised.value.requested) == (2, 3)
    assert (cart.items, p.stock) == ({}, 2)


@pytest.mark.parametrize("quantity", [0, -1, True, 1.5, "1", None])
def test_quantity_must_be_a_positive_int(quantity):
    cart, p = Cart(random_id()), product()
    with pytest.raises(InvalidQuantity):
        add_item_to_cart(cart, p, quantity)
    with pytest.raises(InvalidQuantity):
        remove_item_from_cart(cart, p, quantity)
    assert p.stock == 10


def test_remove_gives_back_what_was_there_never_more():
    cart, p = Cart(random_id(), {1: CartItem(1, 3)}), product(stock=7)
    assert remove_item_from_cart(cart, p, 1).quantity == 2
    assert p.stock == 8
    assert remove_item_from_cart(cart, p, 50).quantity == 0
    assert p.stock == 10 and cart.is_empty


def test_remove_what_is_not_in_the_cart():
    cart, p = Cart(random_id()), product()
    with pytest.raises(ItemNotInCart):
        remove_item_from_cart(cart, p, 1)
    assert p.stock == 10


def test_checkout_snapshots_prices_and_empties_the_cart():
    user = random_id()
    cart = Cart(user, {2: CartItem(2, 1), 1: CartItem(1, 3)})
    products = {1: product(id=1, price=250), 2: product(id=2, price=1999)}
    order = checkout(cart, products)
    products[1].price_cents = 1  # a later price change does not touch the order
    assert [(line.product_id, line.quantity, line.unit_price_cents) for line in order.lines] == [
        (1, 3, 250),
        (2, 1, 1999),
    ]
    assert order.total_cents == 3 * 250 + 1999
    assert (order.status, order.user_id, cart.is_empty) == ("placed", user, True)


def test_checkout_of_an_empty_cart():
    with pytest.raises(CartEmpty):
        checkout(Cart(random_id()), {})
