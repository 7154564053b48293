"""remove_item's own rows of the error table, on both entry points; nothing written by a refusal.

The wrapper's rows, common to every command, are in tests/entrypoints/test_error_table.py.
"""

import pytest

from tests.support import error_of

# Each test runs straight to PostgreSQL and again through a transaction-mode pooler (pgbouncer).
pytestmark = pytest.mark.usefixtures("connection_mode")


def test_product_not_found(invoke, new_user, admin):
    _, token = new_user()
    before = admin.snapshot()
    answer = invoke("remove_item", {"product_id": 2**53 - 1}, token)
    assert (answer.status, error_of(answer)["code"]) == (404, "product_not_found")
    assert admin.snapshot() == before


def test_item_not_in_cart(invoke, new_user, admin):
    product = admin.create_product(stock=5, price_cents=1234)
    _, token = new_user()
    before = admin.snapshot()
    answer = invoke("remove_item", {"product_id": product}, token)
    assert (answer.status, error_of(answer)["code"]) == (404, "item_not_in_cart")
    assert admin.snapshot() == before
