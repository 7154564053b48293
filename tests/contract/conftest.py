"""A stack of its own for the fuzzer: a fresh database and the three functions behind a gateway.

Its own database, so that what the fuzzer buys never touches the other suites' stock, and so
that "a refused request wrote nothing" can be checked by comparing the whole database.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from devstack import database, stack
from functions import registry
from shared.adapters.postgres.connection import pg8000_url
from tests.contract import shopper
from tests.support import ARTIFACTS, Admin, free_port


@pytest.fixture(scope="session")
def contract_database(database_url):
    server = database_url  # the owner's; DATABASE_URL now names the functions' role
    name = f"shop_contract_{uuid.uuid4().hex[:12]}"
    url = database.create_database(server, name)
    stack.apply_sql(url)
    yield url
    database.drop_database(server, name)


@pytest.fixture(scope="session")
def contract_admin(contract_database):
    engine = create_engine(
        pg8000_url(contract_database), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    admin = Admin(engine)
    # Stock for a few big adds, so the fuzzer sees successes first, then stock-outs.
    admin.execute("update products set stock = 1500")
    yield admin
    engine.dispose()


@pytest.fixture(scope="session")
def contract_stack(contract_database):
    ports = {f.name: free_port() for f in registry.COMMANDS}
    with stack.LocalStack(
        contract_database,
        shopper.SIGNING_KEY,
        free_port(),
        ports,
        log_dir=ARTIFACTS / "contract-stack-logs",
        function_env={"JWT_ISSUER": shopper.ISSUER},
    ) as running:
        yield running
