"""Test session: a fresh database on a real PostgreSQL, dev keys, and every function.

The database is created for the session (on DATABASE_URL's server when set, else on the embedded
server under .data/pg) and dropped after it. Every suite but tests/unit uses it; the unit tests
never start PostgreSQL, so `make unit` runs on a machine without one.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import functions_framework
import pytest
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from devstack import database, devkeys, stack
from functions import registry
from shared.adapters import sqs
from shared.adapters.postgres.connection import pg8000_url
from tests import support
from tests.pooler import Pgbouncer

UNIT = Path(__file__).resolve().parent / "unit"
AWS_REGION = "eu-west-1"


@pytest.fixture(autouse=True)
def _database_unless_unit(request):
    """The session's database for every test outside tests/unit (which must never need it)."""
    if UNIT not in request.node.path.parents:
        request.getfixturevalue("database_url")


@pytest.fixture(scope="session")
def signing_key() -> dict:
    return devkeys.generate_private_jwk()


@pytest.fixture(scope="session")
def database_url(signing_key):
    """The owner's URL (migrations, `admin`); the functions log in as shop_functions."""
    server = database.server_url()
    name = f"shop_test_{support.random_id().hex[:12]}"
    url = database.create_database(server, name)
    database.apply_sql(url)
    with support.environment() as change:
        change(
            # The functions log in as shop_functions; `url` (the owner's) is for `admin`.
            DATABASE_URL=database.functions_url(url),
            JWT_JWKS=json.dumps(devkeys.public_jwks(signing_key)),
            DB_POOL_SIZE="25",
            ALLOWED_ORIGINS="http://127.0.0.1:54321",
            # Generous for the suite (under the 10 s socket timeout): 50 threads on 2 shared
            # cores queue on one row for seconds. The timeout tests set tight values of their own.
            DB_LOCK_TIMEOUT_MS="8000",
            DB_STATEMENT_TIMEOUT_MS="9000",
            # scrypt at 2^10 instead of the local stack's 2^17: hundreds of sign-ups stay fast.
            DEVSTACK_SCRYPT_LOG2_N="10",
            # The suites fire hundreds of commands per user within a second; the rate limit's
            # own tests turn it on (tests/reliability/test_drop_limits.py).
            RATE_LIMIT_PER_MINUTE="0",
            SUPABASE_JWKS_URL=None,
            SUPABASE_JWT_SECRET=None,
        )
        yield url

    database.drop_database(server, name)


@pytest.fixture
def env():
    """`env(NAME=value, OTHER=None)` sets (None: removes) variables as a new cold start sees
    them; the test's end puts every one back. The one way tests change the environment."""
    with support.environment() as change:
        yield change


@pytest.fixture(scope="session")
def admin(database_url):
    """Owner connection for arranging and inspecting data (autocommit)."""
    engine = create_engine(
        pg8000_url(database_url), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    yield support.Admin(engine)
    engine.dispose()


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
    with support.environment() as change:
        change(DATABASE_URL=pooler.url, DB_PREPARED_STATEMENTS="off")
        yield request.param


@pytest.fixture(scope="session")
def apps(database_url):
    """Each function's functions-framework app, from the registry."""
    return {
        f.name: functions_framework.create_app(f.name, str(f.source)) for f in registry.FUNCTIONS
    }


@pytest.fixture(scope="session")
def handlers(database_url):
    """Each function's Lambda `handler`, its main.py loaded as Lambda loads it."""
    return {f.name: support.load_main(f.name).handler for f in registry.FUNCTIONS}


@pytest.fixture
def client(apps):
    """`client(function)` -> a Flask test client for that function's HTTP entry point."""
    return lambda name: apps[name].test_client()


@pytest.fixture(params=["functions_framework", "lambda"])
def invoke(request, apps, handlers):
    """`invoke(function, body, token, raw=None, method="POST", **headers)` -> Answer(status,
    headers, json), through the functions-framework app or through the Lambda `handler` given
    a real HTTP API v2 event (a scheduled function: its EventBridge event)."""
    if request.param == "functions_framework":
        return lambda name, *args, **kwargs: support.call_app(apps[name], *args, **kwargs)
    return lambda name, *args, **kwargs: support.call_handler(
        registry.named(name), handlers[name], *args, **kwargs
    )


@pytest.fixture
def new_user(signing_key):
    """`new_user()` -> (user id, Authorization header value) for a fresh user."""

    def make(**claims):
        user_id = support.random_id()
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


@pytest.fixture
def aws(env):
    """AWS stood in for by moto (the one thing the house rules let us fake)."""
    from moto import mock_aws  # loaded by the suites that use AWS only

    env(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_SESSION_TOKEN="testing",
        AWS_DEFAULT_REGION=AWS_REGION,
    )
    sqs._client.cache_clear()  # a client made outside the mock would reach out
    with mock_aws():
        yield
    sqs._client.cache_clear()


@pytest.fixture
def queue(aws, env):
    """A fresh SQS queue, which ORDER_EVENTS_QUEUE_URL names."""
    import boto3

    name = f"orders-{support.random_id().hex[:8]}"
    url = boto3.client("sqs").create_queue(QueueName=name)["QueueUrl"]
    env(ORDER_EVENTS_QUEUE_URL=url)
    return url


@pytest.fixture(scope="session")
def local_stack(database_url, signing_key):
    """The local stack (functions + gateway) for the browser and devstack tests, on free ports:
    the session's database and signing key, never the ports of a developer's `make run`."""
    stack.apply_sql(database_url)
    function_ports = {f.name: support.free_port() for f in registry.COMMANDS}
    with stack.LocalStack(
        database_url,
        signing_key,
        support.free_port(),
        function_ports,
        log_dir=support.ARTIFACTS / "stack-logs",
    ) as running:
        yield running
