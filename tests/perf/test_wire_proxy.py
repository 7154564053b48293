"""The exchange counter itself, checked against what pg8000 documents it sends."""

from __future__ import annotations

import time

import pg8000.native
import pytest
from sqlalchemy.engine import make_url

from bench.wire_proxy import WireProxy


@pytest.fixture
def through_proxy(database_url):
    """A pg8000 native connection to the test database through a fresh proxy."""
    url = make_url(database_url)
    with WireProxy.for_url(database_url) as proxy:
        connection = pg8000.native.Connection(
            url.username or "postgres", unix_sock=proxy.socket_path, database=url.database
        )
        try:
            yield proxy, connection
        finally:
            connection.close()


def cost(proxy, run):
    before = proxy.snapshot()
    run()
    return proxy.snapshot() - before


def test_counts_one_exchange_per_simple_or_named_statement_and_three_per_unnamed(through_proxy):
    proxy, connection = through_proxy
    prepared = connection.prepare("select cast(:x as int)")

    simple = cost(proxy, lambda: connection.run("select 1"))
    unnamed = cost(proxy, lambda: connection.run("select cast(:x as int)", x=1))
    named = cost(proxy, lambda: prepared.run(x=1))

    assert (simple.exchanges, simple.statements) == (1, 1)
    assert (unnamed.exchanges, unnamed.statements) == (3, 1)  # Parse | Describe | Bind+Execute
    assert (named.exchanges, named.statements) == (1, 1)


def test_counts_exchanges_between_the_lock_answer_and_the_commit(through_proxy):
    proxy, connection = through_proxy

    def transaction():
        connection.run("begin")
        connection.run("select 1 for update")
        connection.run("select 2")
        connection.run("select 3")
        connection.run("commit")

    counts = cost(proxy, transaction)
    assert counts.exchanges == 5
    assert counts.transactions == 1
    assert counts.lock_holds == 1
    assert counts.exchanges_while_locked == 3  # select 2, select 3, commit


def test_delay_is_added_to_every_exchange(database_url):
    """A lower bound only: sleeping guarantees at least the delay, whatever the machine does."""
    url = make_url(database_url)
    with WireProxy.for_url(database_url, delay_seconds=0.05) as proxy:
        connection = pg8000.native.Connection(
            url.username or "postgres", unix_sock=proxy.socket_path, database=url.database
        )
        started = time.perf_counter()
        for _ in range(4):
            connection.run("select 1")
        elapsed = time.perf_counter() - started
        connection.close()
    assert elapsed >= 4 * 0.05


def test_finds_the_lock_in_a_named_prepared_statement(through_proxy):
    """The data layer's own path: statements prepared once per connection, then Bind/Execute."""
    proxy, connection = through_proxy
    lock = connection.prepare("select cast(:x as int) for update")
    save = connection.prepare("select cast(:x as int)")

    def transaction():
        connection.run("begin")
        lock.run(x=1)
        save.run(x=2)
        connection.run("commit")

    counts = cost(proxy, transaction)
    assert (counts.exchanges, counts.statements) == (4, 4)
    assert (counts.lock_holds, counts.exchanges_while_locked) == (1, 2)  # save, commit
