"""add_item's own rows of the error table, on both entry points; nothing written by a refusal.

The wrapper's rows, common to every command, are in tests/entrypoints/test_error_table.py.
"""

import pytest

from tests.support import error_of

# Each test runs straight to PostgreSQL and again through a transaction-mode pooler (pgbouncer).
pytestmark = pytest.mark.usefixtures("connection_mode")


def test_product_not_found(invoke, new_user, admin):
    _, token = new_user()
    before = admin.snapshot()
    answer = invoke("add_item", {"product_id": 2**62}, token)
    assert (answer.status, error_of(answer)["code"]) == (404, "product_not_found")
    assert admin.snapshot() == before


def test_insufficient_stock_leaves_no_trace(invoke, new_user, admin):
    product = admin.create_product(stock=5, price_cents=1234)
    user, token = new_user()
    before = admin.snapshot()
    answer = invoke("add_item", {"product_id": product, "quantity": 6}, token)
    assert answer.status == 409
    error = error_of(answer)
    assert error["code"] == "insufficient_stock" and "5 in stock" in error["message"]
    assert admin.snapshot() == before
    assert admin.scalar("select count(*) from carts where user_id = :u", u=user) == 0
