"""Who may do what, read from the catalogue of a database built the way Supabase builds one.

Supabase's default privileges grant every new table, sequence and function in `public` to the
API roles. The database here is migrated under exactly those defaults, so a grant that sql/
forgets to take back shows up as a failure, not as a hole in production.
"""

from __future__ import annotations

import contextlib
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.pool import NullPool

from devstack import database
from shared.adapters.postgres.connection import pg8000_url

SUPABASE_DEFAULT_PRIVILEGES = """
alter default privileges in schema public grant all on tables to anon, authenticated, service_role;
alter default privileges in schema public grant all on sequences to anon, authenticated, service_role;
alter default privileges in schema public grant all on functions to anon, authenticated, service_role;
"""
TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
# What the read side needs: SELECT, and only on these (RLS then decides which rows).
API_READS = {
    "anon": {"products", "product_catalog"},
    "authenticated": {
        "products",
        "product_catalog",
        "carts",
        "cart_items",
        "orders",
        "order_items",
        "my_cart",
        "my_orders",
    },
}
# What the commands, the sweep and the relay need, and nothing more.
FUNCTIONS_ROLE_NEEDS = {
    "products": {"SELECT", "UPDATE(stock)"},
    "product_stock_buckets": {"SELECT", "UPDATE(units)"},
    "carts": {
        "SELECT",
        "INSERT(user_id, expires_at)",
        "UPDATE(updated_at, expires_at, version, rate_tokens, rate_counted_at)",
        "DELETE",
    },
    "cart_items": {"SELECT", "INSERT", "UPDATE(quantity)", "DELETE"},
    "orders": {"SELECT", "INSERT"},
    "order_items": {"SELECT", "INSERT"},
    "idempotency_keys": {
        "SELECT",
        # a refusal's answer is inserted whole (shared/adapters/postgres/idempotency.py)
        "INSERT(user_id, key, fingerprint)",
        "UPDATE(key, status, response)",
        "DELETE",
    },
    "outbox": {
        "SELECT",
        "INSERT(event_type, order_id, payload, correlation_id)",
        "UPDATE(sent_at, attempts, last_error)",
    },
}


@pytest.fixture(scope="module")
def supabase_like(database_url):
    """A database migrated by sql/ after Supabase's ALTER DEFAULT PRIVILEGES."""
    server = database.with_database(database_url, "postgres")  # DATABASE_URL is the functions'
    name = f"shop_privileges_{uuid.uuid4().hex[:8]}"
    url = database.create_database(server, name)
    engine = create_engine(pg8000_url(url), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql((database.SQL_DIR / "00_supabase_compat.sql").read_text())
            conn.exec_driver_sql(SUPABASE_DEFAULT_PRIVILEGES)
        database.apply_sql(url)
        yield engine
    finally:
        engine.dispose()
        database.drop_database(server, name)


@contextlib.contextmanager
def as_role(engine, role: str):
    """A transaction (the engine autocommits otherwise) run as `role`, always rolled back."""
    with engine.execution_options(isolation_level="READ COMMITTED").connect() as conn:
        transaction = conn.begin()
        try:
            conn.execute(text(f"set local role {role}"))
            yield conn
        finally:
            transaction.rollback()


def rows(engine, sql: str, **params) -> list:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).all()


def table_privileges(engine, role: str) -> dict[str, set[str]]:
    """Every privilege `role` holds on a table or view of `public`; column grants as PRIV(cols)."""
    held: dict[str, set[str]] = {}
    for (relation,) in rows(
        engine,
        "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = 'public' and c.relkind in ('r', 'v', 'm', 'p', 'f')",
    ):
        for privilege in TABLE_PRIVILEGES:
            if rows(
                engine, f"select has_table_privilege('{role}', 'public.{relation}', '{privilege}')"
            )[0][0]:
                held.setdefault(relation, set()).add(privilege)
        for privilege in ("INSERT", "UPDATE", "SELECT"):
            if privilege in held.get(relation, set()):
                continue
            columns = rows(
                engine,
                "select attname from pg_attribute where attrelid = cast(:r as regclass)"
                " and attnum > 0 and not attisdropped"
                " and has_column_privilege(:role, attrelid, attnum, :p) order by attnum",
                r=f"public.{relation}",
                role=role,
                p=privilege,
            )
            if columns:
                names = ", ".join(c for (c,) in columns)
                held.setdefault(relation, set()).add(f"{privilege}({names})")
    return held


@pytest.mark.parametrize("role", ["anon", "authenticated"])
def test_the_api_roles_may_only_read_the_read_side(supabase_like, role):
    held = table_privileges(supabase_like, role)
    assert held == {relation: {"SELECT"} for relation in API_READS[role]}


@pytest.mark.parametrize("role", ["anon", "authenticated"])
def test_the_api_roles_hold_no_sequence(supabase_like, role):
    found = rows(
        supabase_like,
        "select c.relname, p.privilege from pg_class c"
        " join pg_namespace n on n.oid = c.relnamespace,"
        " unnest(array['USAGE', 'SELECT', 'UPDATE']) as p(privilege)"
        " where c.relkind = 'S' and n.nspname = 'public'"
        " and has_sequence_privilege(:role, c.oid, p.privilege)",
        role=role,
    )
    assert found == []
    assert rows(supabase_like, "select count(*) from pg_class where relkind = 'S'")[0][0] > 0


@pytest.mark.parametrize("role", ["anon", "authenticated"])
def test_the_api_roles_execute_only_the_auth_helpers(supabase_like, role):
    found = rows(
        supabase_like,
        "select n.nspname || '.' || p.proname from pg_proc p"
        " join pg_namespace n on n.oid = p.pronamespace"
        " where n.nspname in ('public', 'auth', 'private')"
        " and has_function_privilege(:role, p.oid, 'EXECUTE')",
        role=role,
    )
    # The auth helpers the policies call, and the one the read views call for the stock.
    assert {name for (name,) in found} == {"auth.uid", "auth.jwt", "private.units_in_buckets"}


def test_anon_cannot_move_the_outbox_sequence(supabase_like):
    """Reproduced on main before the fix: as anon, setval on outbox_id_seq succeeded."""
    with (
        as_role(supabase_like, "anon") as conn,
        pytest.raises(ProgrammingError, match="permission denied"),
    ):
        conn.execute(text("select setval('public.outbox_id_seq', 1000000)"))


def test_the_functions_role_holds_exactly_what_the_functions_need(supabase_like):
    assert table_privileges(supabase_like, "shop_functions") == FUNCTIONS_ROLE_NEEDS


def test_the_functions_role_owns_nothing_and_cannot_change_the_schema(supabase_like):
    owned = rows(
        supabase_like,
        "select count(*) from pg_class where relowner = 'shop_functions'::regrole"
        " union all select count(*) from pg_proc where proowner = 'shop_functions'::regrole"
        " union all select count(*) from pg_namespace where nspowner = 'shop_functions'::regrole",
    )
    assert [n for (n,) in owned] == [0, 0, 0]
    [(login, superuser, bypass, createrole, createdb)] = rows(
        supabase_like,
        "select rolcanlogin, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb"
        " from pg_roles where rolname = 'shop_functions'",
    )
    assert login and not (superuser or bypass or createrole or createdb)
    with as_role(supabase_like, "shop_functions") as conn:
        for ddl in ("create table public.intruder (id int)", "drop table public.outbox"):
            refused = pytest.raises(ProgrammingError, match="permission denied|must be owner")
            with refused, conn.begin_nested():
                conn.execute(text(ddl))
