"""add_item's concurrency claims, proved with real concurrent transactions through its entry point."""

from collections import Counter

import pytest

from tests.support import post, run_concurrently

# Each test runs straight to PostgreSQL and again through a transaction-mode pooler (pgbouncer).
pytestmark = pytest.mark.usefixtures("connection_mode")


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


def buyers_adding(app, new_user, product, quantities):
    """One fresh buyer per quantity, each adding it once: (users, calls returning the answer)."""
    users = [new_user() for _ in quantities]
    calls = [
        (
            lambda token=token, q=q: post(
                app.test_client(), token, {"product_id": product, "quantity": q}
            )
        )
        for (_, token), q in zip(users, quantities, strict=True)
    ]
    return users, calls


def test_sold_out_across_eight_buckets_is_exact(apps, new_user, admin):
    """A drop: 64 units in 8 buckets, 96 buyers adding 1 at once. Exactly the stock is sold,
    every other buyer hears 409 insufficient_stock (never a 5xx), every bucket ends empty."""
    product = admin.create_product(stock=64, buckets=8)
    users, calls = buyers_adding(apps["add_item"], new_user, product, [1] * 96)
    responses = run_concurrently(calls, threads=32)
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {200: 64, 409: 32}, statuses
    codes = {r.get_json()["error"]["code"] for r in responses if r.status_code == 409}
    assert codes == {"insufficient_stock"}
    assert admin.buckets(product) == [0] * 8
    assert sum(admin.in_cart(user, product) for user, _ in users) == 64


def test_never_insufficient_while_the_buckets_together_cover_it(apps, new_user, admin):
    """80 units in 8 buckets of 10, asked for by 25 buyers at once in amounts that leave every
    bucket with crumbs (24 × 3, then 8): together they ask for exactly the stock, so every one
    of them is served, the last ones from several buckets at once."""
    product = admin.create_product(stock=80, buckets=8)
    users, calls = buyers_adding(apps["add_item"], new_user, product, [3] * 24 + [8])
    responses = run_concurrently(calls, threads=25)
    assert [r.status_code for r in responses] == [200] * 25, [
        r.get_json() for r in responses if r.status_code != 200
    ]
    assert admin.buckets(product) == [0] * 8
    assert sum(admin.in_cart(user, product) for user, _ in users) == 80
