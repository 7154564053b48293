"""Stock in buckets on the database itself: set_product_stock (who may run it, what it writes)
and the read side's one figure, product_catalog.stock (sql/16_stock_buckets.sql).

Concurrent commands against set_product_stock: tests/reliability/test_stock_buckets.py.
"""

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError, ProgrammingError
from sqlalchemy.pool import NullPool

from devstack import database
from shared.adapters.postgres.connection import pg8000_url
from tests.support import as_role, random_id

SET_STOCK = "select public.set_product_stock(:p, :u, :b)"


@pytest.mark.parametrize("role", ["anon", "authenticated", "service_role", "shop_functions"])
def test_only_the_owner_may_set_stock(admin, role):
    product = admin.create_product(stock=10)
    assert not admin.scalar(
        "select has_function_privilege(:r, 'public.set_product_stock(bigint, integer, integer)',"
        " 'EXECUTE')",
        r=role,
    )
    with pytest.raises(ProgrammingError, match="permission denied for function set_product_stock"):
        as_role(admin, role, random_id())(SET_STOCK, p=product, u=0, b=None)
    assert admin.buckets(product) == [10]
    admin.set_product_stock(product, 7)  # the owner, as in the Supabase SQL editor
    assert admin.buckets(product) == [7]


def test_the_functions_login_cannot_set_stock_either(admin, database_url):
    """Not only the role: the very login the functions use (DATABASE_URL)."""
    product = admin.create_product(stock=10)
    engine = create_engine(pg8000_url(database.functions_url(database_url)), poolclass=NullPool)
    try:
        with engine.connect() as conn, pytest.raises(ProgrammingError, match="permission denied"):
            conn.execute(text(SET_STOCK), {"p": product, "u": 99, "b": 4})
    finally:
        engine.dispose()
    assert admin.buckets(product) == [10]


@pytest.mark.parametrize(
    "units, buckets, spread",
    [
        (10, 4, [3, 3, 2, 2]),
        (8, 8, [1] * 8),
        (3, 8, [1, 1, 1, 0, 0, 0, 0, 0]),
        (0, 3, [0, 0, 0]),
        (500, 8, [63, 63, 63, 63, 62, 62, 62, 62]),
        (5, 1, [5]),
    ],
)
def test_units_are_spread_evenly_over_n_buckets(admin, units, buckets, spread):
    product = admin.create_product(stock=1)
    admin.set_product_stock(product, units, buckets)
    assert admin.buckets(product) == spread
    assert admin.scalar("select stock_buckets from products where id = :p", p=product) == buckets
    assert admin.stock(product) == units


def test_n_changes_up_and_down_and_stays_without_buckets(admin):
    product = admin.create_product(stock=10, buckets=4)
    admin.set_product_stock(product, 9)  # N unchanged
    assert admin.buckets(product) == [3, 2, 2, 2]
    admin.set_product_stock(product, 9, 2)  # fewer buckets: the extra rows go
    assert admin.buckets(product) == [5, 4]
    admin.set_product_stock(product, 16, 8)  # more
    assert admin.buckets(product) == [2] * 8
    admin.set_product_stock(product, 4, 1)  # back to the single row
    assert admin.buckets(product) == [4]
    assert (
        admin.scalar("select count(*) from product_stock_buckets where product_id = :p", p=product)
        == 0
    )


def test_units_in_carts_stay_in_carts(admin):
    """`units` is what is available; what shoppers hold is not touched."""
    product, user = admin.create_product(stock=10), random_id()
    admin.put_in_cart(user, product, 4)
    admin.set_product_stock(product, 20, 4)
    assert (admin.stock(product), admin.in_cart(user, product)) == (20, 4)


@pytest.mark.parametrize(
    "units, buckets, sqlstate",
    [(-1, None, "22023"), (None, None, "22023"), (5, 0, "22023"), (5, 257, "22023")],
)
def test_bad_arguments_are_refused_and_change_nothing(admin, units, buckets, sqlstate):
    product = admin.create_product(stock=6, buckets=2)
    with pytest.raises(DBAPIError) as raised:
        admin.execute(SET_STOCK, p=product, u=units, b=buckets)
    assert sqlstate in str(raised.value)
    assert admin.buckets(product) == [3, 3]


def test_an_unknown_product_is_refused(admin):
    with pytest.raises(DBAPIError, match="P0002"):
        admin.execute(SET_STOCK, p=2**62, u=5, b=None)


def test_the_catalogue_shows_the_sum_and_hides_the_buckets(admin):
    product = admin.create_product(stock=10, buckets=4, max_per_customer=2)
    for role in ("anon", "authenticated"):
        query = as_role(admin, role, random_id())
        [(stock, in_stock, limit)] = query(
            "select stock, in_stock, max_per_customer from product_catalog where id = :p",
            p=product,
        )
        assert (stock, in_stock, limit) == (10, True, 2)
        with pytest.raises(ProgrammingError, match="permission denied"):
            query("select * from product_stock_buckets")
    admin.set_product_stock(product, 0)
    [(stock, in_stock)] = as_role(admin, "anon")(
        "select stock, in_stock from product_catalog where id = :p", p=product
    )
    assert (stock, in_stock) == (0, False)


def test_my_cart_shows_the_sum_too(admin):
    product, user = admin.create_product(stock=12, buckets=3), random_id()
    admin.put_in_cart(user, product, 2)  # from bucket 0
    rows = as_role(admin, "authenticated", user)(
        "select product_id, stock from my_cart where product_id = :p", p=product
    )
    assert [tuple(r) for r in rows] == [(product, 10)]


def test_products_keeps_its_columns(admin):
    """Other tools read products: its columns stay, with their types (new ones are added)."""
    columns = dict(
        admin.rows(
            "select column_name, data_type from information_schema.columns"
            " where table_schema = 'public' and table_name = 'products'"
        )
    )
    assert {
        "id": "bigint",
        "name": "text",
        "description": "text",
        "price_cents": "integer",
        "stock": "integer",
        "created_at": "timestamp with time zone",
    }.items() <= columns.items()
