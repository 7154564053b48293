"""Test session: a fresh database on a real PostgreSQL, dev keys, and the three functions.

The database is created for this session and dropped after it, on DATABASE_URL's server when
set, else on the embedded server under .data/pg.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import uuid
from pathlib import Path

import functions_framework
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from devstack import database, devkeys
from functions import registry
from shared.adapters.postgres import connection as db
from shared.adapters.postgres.connection import pg8000_url
from shared.config import settings
from shared.entrypoints import auth
from tests.local_stack import local_stack  # noqa: F401  (fixture of tests/browser, tests/devstack)
from tests.pooler import Pgbouncer

ROOT = Path(__file__).resolve().parent.parent


def reset_caches() -> None:
    """Settings, engine and keys are cached per cold start; tests that change env reset them."""
    if db.engine.cache_info().currsize:
        db.engine().dispose()
    for cached in (settings, db.engine, auth._static_keys, auth._jwks_client):
        cached.cache_clear()


@pytest.fixture(scope="session")
def signing_key() -> dict:
    return devkeys.generate_private_jwk()


@pytest.fixture(scope="session", autouse=True)
def database_url(signing_key):
    """The owner's URL (migrations, `admin`); the functions log in as shop_functions."""
    server = database.server_url()
    name = f"shop_test_{uuid.uuid4().hex[:12]}"
    url = database.create_database(server, name)
    database.apply_sql(url)
    os.environ.update(
        DATABASE_URL=database.functions_url(url),
        JWT_JWKS=json.dumps(devkeys.public_jwks(signing_key)),
        DB_POOL_SIZE="25",
        ALLOWED_ORIGINS="http://127.0.0.1:54321",
        # Generous for the suite (under the 10 s socket timeout): 50 threads on 2 shared cores
        # queue on one row for seconds. The timeout tests set tight values of their own.
        DB_LOCK_TIMEOUT_MS="8000",
        DB_STATEMENT_TIMEOUT_MS="9000",
        # scrypt at 2^10 instead of the local stack's 2^17: hundreds of sign-ups stay fast.
        DEVSTACK_SCRYPT_LOG2_N="10",
    )
    os.environ.pop("SUPABASE_JWKS_URL", None)
    os.environ.pop("SUPABASE_JWT_SECRET", None)
    reset_caches()
    yield url
    reset_caches()
    database.drop_database(server, name)


@pytest.fixture(scope="session")
def admin(database_url):
    """Owner connection for arranging and inspecting data (autocommit)."""
    engine = create_engine(
        pg8000_url(database_url), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    yield Admin(engine)
    engine.dispose()


class Admin:
    def __init__(self, engine):
        self.engine = engine

    def scalar(self, sql: str, **params):
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()

    def rows(self, sql: str, **params):
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).all()

    def execute(self, sql: str, **params) -> None:
        with self.engine.connect() as conn:
            conn.execute(text(sql), params)

    def create_product(self, stock: int = 100, price_cents: int = 1000, name=None) -> int:
        return self.scalar(
            "insert into products (name, price_cents, stock) values (:n, :p, :s) returning id",
            n=name or f"test product {uuid.uuid4().hex[:8]}",
            p=price_cents,
            s=stock,
        )

    def stock(self, product_id: int) -> int:
        return self.scalar("select stock from products where id = :id", id=product_id)

    def in_cart(self, user_id, product_id: int) -> int:
        return self.scalar(
            "select coalesce(sum(ci.quantity), 0) from cart_items ci join carts c"
            " on c.id = ci.cart_id where c.user_id = :u and ci.product_id = :p",
            u=user_id,
            p=product_id,
        )

    @contextlib.contextmanager
    def holding(self, sql: str, **params):
        """Run `sql` in a transaction left open (holding its row locks) until the block ends."""
        engine = self.engine.execution_options(isolation_level="READ COMMITTED")
        with engine.connect() as conn, conn.begin():
            conn.execute(text(sql), params)
            yield conn

    def expire_cart(self, user_id) -> None:
        """Make the user's reservation lapse now, as if CART_TTL_MINUTES had passed."""
        self.execute(
            "update carts set expires_at = now() - interval '1 second' where user_id = :u",
            u=user_id,
        )

    def snapshot(self) -> dict:
        """Everything a command can write, to prove that a failed one wrote nothing."""
        tables = ("products", "carts", "cart_items", "orders", "order_items", "outbox")
        digest = ", ".join(
            f"(select md5(coalesce(string_agg(t::text, ',' order by t::text), '')) from {t} t)"
            for t in tables
        )
        return dict(zip(tables, self.rows(f"select {digest}")[0], strict=True))


@pytest.fixture(scope="session")
def pgbouncer(database_url):
    """A transaction-mode pgbouncer in front of the test database (started on first use)."""
    pooler = Pgbouncer(database.functions_url(database_url))
    yield pooler
    pooler.stop()


@pytest.fixture(scope="module", params=["direct", "transaction_pooler"])
def connection_mode(request, database_url):
    """Run a whole module twice: straight to PostgreSQL, then through a transaction pooler.

    The second run is the documented Supavisor port-6543 setting: DB_PREPARED_STATEMENTS=off.
    Modules opt in with `pytestmark = pytest.mark.usefixtures("connection_mode")`.
    """
    if request.param == "direct":
        yield request.param
        return
    pooler = request.getfixturevalue("pgbouncer")
    os.environ.update(DATABASE_URL=pooler.url, DB_PREPARED_STATEMENTS="off")
    reset_caches()
    yield request.param
    os.environ.update(DATABASE_URL=database.functions_url(database_url))
    os.environ.pop("DB_PREPARED_STATEMENTS")
    reset_caches()


@pytest.fixture(scope="session")
def apps(database_url):
    return {
        f.name: functions_framework.create_app(f.name, str(f.source)) for f in registry.FUNCTIONS
    }


@pytest.fixture
def client(apps):
    """`client(function)` -> a Flask test client for that function's HTTP entry point."""
    return lambda name: apps[name].test_client()


@pytest.fixture
def new_user(signing_key):
    """`new_user()` -> (user id, Authorization header value) for a fresh user."""

    def make(**claims):
        user_id = uuid.uuid4()
        token = devkeys.mint_token(signing_key, user_id, f"{user_id.hex[:8]}@example.com", **claims)
        return user_id, f"Bearer {token}"

    return make


@pytest.fixture
def statements(caplog):
    """`statements()` -> first word of each SQL statement sent since the last call."""
    caplog.set_level(logging.DEBUG, logger="shared.sql")

    def sent():
        # BEGIN travels with its SET LOCAL timeouts in one simple query: "BEGIN; SET LOCAL ...".
        found = [
            r.getMessage().split()[0].rstrip(";").upper()
            for r in caplog.records
            if r.name == "shared.sql"
        ]
        caplog.clear()
        return found

    return sent
