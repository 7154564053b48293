"""The remove_item use case on the fake unit of work."""

import pytest

from shared.domain import ItemNotInCart, ProductNotFound
from shared.service.add_item import add_item
from shared.service.idempotency import Replayed, StoredResponse
from shared.service.remove_item import remove_item
from tests.support import random_id
from tests.unit.fakes import FakeUnitOfWork, new_key


@pytest.fixture
def uow():
    return FakeUnitOfWork()


def test_remove_part_then_more_than_is_left(uow):
    product, user = uow.add_product(stock=10), random_id()
    add_item(uow, user, product, 4)
    assert remove_item(uow, user, product, 1) == {"product_id": product, "quantity": 3}
    assert (uow.stock(product), uow.in_cart(user, product)) == (7, 3)
    # Asking for more than is there removes the line and gives back exactly what was there.
    assert remove_item(uow, user, product, 1000) == {"product_id": product, "quantity": 0}
    assert (uow.stock(product), uow.tables.carts[user].lines) == (10, {})
    assert uow.commits == 3


def test_what_is_not_in_the_cart_cannot_be_removed(uow):
    product, user = uow.add_product(stock=10), random_id()
    before = uow.snapshot()
    with pytest.raises(ItemNotInCart):
        remove_item(uow, user, product, 1)
    with pytest.raises(ProductNotFound):
        remove_item(uow, user, 404, 1)
    assert uow.snapshot() == before and uow.commits == 0


def test_one_users_remove_never_touches_anothers_cart(uow):
    product, alice, bob = uow.add_product(stock=10), random_id(), random_id()
    add_item(uow, alice, product, 2)
    with pytest.raises(ItemNotInCart):
        remove_item(uow, bob, product, 2)
    assert (uow.stock(product), uow.in_cart(alice, product)) == (8, 2)


def test_a_keyed_remove_is_applied_once(uow):
    product, user = uow.add_product(stock=10), random_id()
    add_item(uow, user, product, 4)
    key = new_key(user, "remove_item")
    answer = remove_item(uow, user, product, 1, key)
    with pytest.raises(Replayed) as replayed:
        remove_item(uow, user, product, 1, key)
    assert replayed.value.response == StoredResponse(200, answer)
    assert uow.in_cart(user, product) == 3


def test_a_keyed_item_not_in_cart_is_stored(uow):
    product, user = uow.add_product(stock=10), random_id()
    key = new_key(user, "remove_item")
    with pytest.raises(ItemNotInCart):
        remove_item(uow, user, product, 1, key)
    assert uow.tables.keys[(user, key.value)].status == 404
    assert (uow.stock(product), uow.in_cart(user, product), uow.commits) == (10, 0, 1)
