"""Row Level Security, exercised the way PostgREST does it.

PostgREST runs each request in a transaction as `anon` or `authenticated`, with the verified
claims in `request.jwt.claims`; these tests do exactly that against the real schema.
"""

import uuid

import pytest
from sqlalchemy.exc import ProgrammingError

from devstack import devkeys
from tests.support import as_role, post

TABLES = ("products", "carts", "cart_items", "orders", "order_items")
VIEWS = ("product_catalog", "my_cart", "my_orders")


@pytest.fixture(scope="module")
def two_shoppers(apps, signing_key, admin):
    """Alice and Bob each hold a cart line and an order."""
    product = admin.create_product(stock=20)
    shoppers = []
    for _ in range(2):
        user = uuid.uuid4()
        token = "Bearer " + devkeys.mint_token(signing_key, user)
        post(apps["add_item"].test_client(), token, {"product_id": product, "quantity": 2})
        post(apps["checkout"].test_client(), token, {})
        post(apps["add_item"].test_client(), token, {"product_id": product, "quantity": 1})
        shoppers.append(user)
    return shoppers


def test_every_table_has_rls_enabled(admin):
    rows = admin.rows(
        "select relname, relrowsecurity from pg_class where relnamespace = 'public'::regnamespace"
        " and relkind = 'r'"
    )
    assert rows and all(enabled for _, enabled in rows), rows


def test_anon_reads_products_and_nothing_else(admin, two_shoppers):
    anon = as_role(admin, "anon")
    assert anon("select count(*) from products")[0][0] > 0
    assert anon("select count(*) from product_catalog")[0][0] > 0
    for relation in ("carts", "cart_items", "orders", "order_items", "my_cart", "my_orders"):
        with pytest.raises(ProgrammingError, match="permission denied"):
            anon(f"select * from {relation}")


def test_a_user_sees_only_their_own_cart_and_orders(admin, two_shoppers):
    alice, bob = two_shoppers
    for me, other in ((alice, bob), (bob, alice)):
        query = as_role(admin, "authenticated", me)
        assert {r[0] for r in query("select user_id from carts")} == {me}
        assert {r[0] for r in query("select user_id from orders")} == {me}
        assert len(query("select * from cart_items")) == 1
        assert len(query("select * from order_items")) == 1
        assert [r.quantity for r in query("select quantity from my_cart")] == [1]
        mine = query("select id, lines from my_orders")
        assert len(mine) == 1 and mine[0].lines[0]["quantity"] == 2
        assert query("select * from orders where user_id = :o", o=other) == []


def test_a_stranger_sees_no_cart_or_order(admin, two_shoppers):
    stranger = as_role(admin, "authenticated", uuid.uuid4())
    for relation in ("carts", "cart_items", "orders", "order_items", "my_cart", "my_orders"):
        assert stranger(f"select * from {relation}") == []


@pytest.mark.parametrize("role", ["anon", "authenticated"])
@pytest.mark.parametrize(
    "statement",
    [
        "insert into products (name, price_cents, stock) values ('x', 1, 1)",
        "update products set stock = 0",
        "delete from products",
        "insert into carts (user_id) values ('{user}')",
        "update carts set updated_at = now()",
        "delete from cart_items",
        "insert into orders (user_id, status, total_cents, correlation_id) values ('{user}', 'placed', 0, 'x')",
        "update orders set total_cents = 0",
        "delete from order_items",
    ],
)
def test_no_api_role_can_write_anything(admin, two_shoppers, role, statement):
    user = two_shoppers[0]
    before = admin.snapshot()
    with pytest.raises(ProgrammingError, match="permission denied"):
        as_role(admin, role, user)(statement.format(user=user))
    assert admin.snapshot() == before
