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
