"""Every command at once: a storm of random adds, removes and checkouts loses no unit."""

import random
from collections import Counter

import pytest

from tests.support import post, queued_behind_the_cart, run_concurrently

# Each test runs straight to PostgreSQL and again through a transaction-mode pooler (pgbouncer).
pytestmark = pytest.mark.usefixtures("connection_mode")


def test_storm_of_adds_and_removes_keeps_every_unit(apps, new_user, admin):
    """400 random commands on 16 threads: no 5xx, and every unit is in stock, a cart or an order."""
    start = {admin.create_product(stock=40): 40 for _ in range(4)}
    products = list(start)
    users = [new_user() for _ in range(6)]
    rng = random.Random(20261126)
    plan = [
        (
            rng.choice(["add_item", "add_item", "remove_item", "checkout"]),
            rng.choice(users)[1],
            rng.choice(products),
            rng.randint(1, 5),
        )
        for _ in range(400)
    ]

    def call(function, token, product, quantity):
        body = {} if function == "checkout" else {"product_id": product, "quantity": quantity}
        return function, post(apps[function].test_client(), token, body).status_code

    results = run_concurrently([lambda step=step: call(*step) for step in plan], threads=16)
    statuses = Counter(status for _, status in results)
    assert not [s for s in statuses if s >= 500], statuses
    # Not a vacuous storm: every kind of command really applied, many times over.
    applied = Counter(function for function, status in results if status == 200)
    assert min(applied[f] for f in ("add_item", "remove_item", "checkout")) >= 5, applied
    for product, initial in start.items():
        stock = admin.stock(product)
        in_carts = admin.scalar(
            "select coalesce(sum(quantity), 0) from cart_items where product_id = :p", p=product
        )
        ordered = admin.scalar(
            "select coalesce(sum(quantity), 0) from order_items where product_id = :p", p=product
        )
        assert stock >= 0
        assert stock + in_carts + ordered == initial, (product, stock, in_carts, ordered)


def test_a_remove_queued_behind_an_add_of_the_same_customer_finds_its_line(client, new_user, admin):
    """The READ COMMITTED trap: the remove's snapshot predates the line. The cart's version
    tells it that another command of this customer committed while it waited: it reads again."""
    product = admin.create_product(stock=10)
    user, token = new_user()
    admin.put_in_cart(user, admin.create_product(stock=10))  # the cart exists, not the line
    add, remove = queued_behind_the_cart(
        client,
        admin,
        user,
        token,
        [
            ("add_item", {"product_id": product, "quantity": 3}),
            ("remove_item", {"product_id": product}),
        ],
    )
    assert add.get_json() == {"product_id": product, "quantity": 3}
    assert remove.status_code == 200, remove.get_json()
    assert remove.get_json() == {"product_id": product, "quantity": 2}
    assert (admin.stock(product), admin.in_cart(user, product)) == (8, 2)
