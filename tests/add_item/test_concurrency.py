"""Concurrency claims, proved with real concurrent transactions through the HTTP entry point."""

import contextlib
import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.helpers import post

# Each test runs straight to PostgreSQL and again through a transaction-mode pooler (pgbouncer).
pytestmark = pytest.mark.usefixtures("connection_mode")


def run_concurrently(calls, threads):
    """Start every call at once (a barrier per worker) and collect the responses' statuses."""
    barrier = threading.Barrier(min(threads, len(calls)))

    def run(call):
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=10)
        return call()

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(run, calls))


def test_fifty_buyers_ten_units_never_oversold(apps, new_user, admin):
    product = admin.create_product(stock=10)
    users = [new_user() for _ in range(50)]
    app = apps["add_item"]
    calls = [
        (lambda token=token: post(app.test_client(), token, {"product_id": product}).status_code)
        for _, token in users
    ]
    statuses = Counter(run_concurrently(calls, threads=50))
    assert statuses == {200: 10, 409: 40}
    assert admin.stock(product) == 0
    assert sum(admin.in_cart(user, product) for user, _ in users) == 10


def test_same_user_concurrent_adds_lose_no_unit(apps, new_user, admin):
    """The READ COMMITTED trap: a statement that waited re-reads only the rows it locks."""
    app = apps["add_item"]
    for existing_cart in (False, True):
        product = admin.create_product(stock=1000)
        other = admin.create_product(stock=10)
        user, token = new_user()
        if existing_cart:
            assert post(app.test_client(), token, {"product_id": other}).status_code == 200
        calls = [
            (
                lambda token=token, product=product: post(
                    app.test_client(), token, {"product_id": product, "quantity": 3}
                ).status_code
            )
            for _ in range(20)
        ]
        assert run_concurrently(calls, threads=20) == [200] * 20
        taken = 1000 - admin.stock(product)
        assert taken == 60
        assert admin.in_cart(user, product) == taken


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
