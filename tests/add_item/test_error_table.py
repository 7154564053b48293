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
    answer = invoke("add_item", {"product_id": 2**53 - 1}, token)
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


def test_purchase_limit_counts_the_cart_and_the_orders(invoke, new_user, admin):
    product = admin.create_product(stock=10, max_per_customer=3)
    user, token = new_user()
    assert invoke("add_item", {"product_id": product, "quantity": 2}, token).status == 200
    assert invoke("checkout", {}, token).status == 200  # 2 ordered
    assert invoke("add_item", {"product_id": product}, token).status == 200  # 1 in the cart
    before = admin.snapshot()
    answer = invoke("add_item", {"product_id": product}, token)
    assert answer.status == 409
    error = error_of(answer)
    assert (error["code"], error["limit"], error["held"]) == ("purchase_limit_reached", 3, 3)
    assert "limited to 3 per customer" in error["message"]
    assert admin.snapshot() == before
    # Another customer has a limit of their own.
    _, other = new_user()
    assert invoke("add_item", {"product_id": product, "quantity": 3}, other).status == 200


@pytest.mark.parametrize(
    "setting, value, arrange, refused_body",
    [
        ("CART_MAX_LINES", "2", [(0, 1), (1, 1)], (2, 1)),  # a third product
        ("CART_MAX_UNITS", "5", [(0, 3), (1, 1)], (1, 2)),  # a sixth and seventh unit
    ],
    ids=["lines", "units"],
)
def test_cart_caps(invoke, new_user, admin, env, setting, value, arrange, refused_body):
    env(**{setting: value})
    products = [admin.create_product(stock=10) for _ in range(3)]
    _, token = new_user()
    for index, quantity in arrange:
        body = {"product_id": products[index], "quantity": quantity}
        assert invoke("add_item", body, token).status == 200
    index, quantity = refused_body
    before = admin.snapshot()
    answer = invoke("add_item", {"product_id": products[index], "quantity": quantity}, token)
    assert answer.status == 409
    error = error_of(answer)
    limit_of = setting.rsplit("_", 1)[1].lower()
    assert (error["code"], error["limit"], error["limit_of"]) == (
        "cart_limit_reached",
        int(value),
        limit_of,
    )
    assert admin.snapshot() == before
    env(**{setting: "0"})  # 0 turns the cap off
    assert (
        invoke("add_item", {"product_id": products[index], "quantity": quantity}, token).status
        == 200
    )


def test_more_of_a_line_already_in_a_full_cart_is_not_a_new_line(invoke, new_user, admin, env):
    env(CART_MAX_LINES="1")
    product = admin.create_product(stock=10)
    _, token = new_user()
    for _ in range(3):
        assert invoke("add_item", {"product_id": product}, token).status == 200
