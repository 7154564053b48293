"""checkout's own row of the error table, on both entry points; nothing written by a refusal.

The wrapper's rows, common to every command, are in tests/entrypoints/test_error_table.py.
"""

import pytest

from tests.support import error_of

# Each test runs straight to PostgreSQL and again through a transaction-mode pooler (pgbouncer).
pytestmark = pytest.mark.usefixtures("connection_mode")


def test_cart_empty(invoke, new_user, admin):
    _, token = new_user()
    before = admin.snapshot()
    answer = invoke("checkout", {}, token)
    assert (answer.status, error_of(answer)["code"]) == (409, "cart_empty")
    assert admin.snapshot() == before
