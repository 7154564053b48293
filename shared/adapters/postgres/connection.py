"""Connections: one small SQLAlchemy pool per warm function instance, spoken to in pg8000's API.

SQLAlchemy gives us the pool (recycle, invalidation) and URL handling. Statements go
through pg8000's own connection API because it is the only way to send each of them in a single
network exchange: BEGIN and COMMIT as simple queries, everything else as a named prepared
statement, prepared once per connection. Through SQLAlchemy's DB-API path each parameterized
statement costs three exchanges (Parse, Describe, Bind/Execute) and COMMIT three more.

Named prepared statements do not survive a transaction-mode pooler (Supavisor on port 6543), so
`DB_PREPARED_STATEMENTS=off` (automatic for port 6543) sends each statement unnamed instead.

The pool does not ping a connection before handing it out: BEGIN, the first exchange of every
command, is the ping. A pooled connection that died while idle (server restart, terminated
backend, a pooler's idle timeout) fails at BEGIN, before anything of the command was sent, and
the unit of work runs the command again on a new pool (unit_of_work.py). A pre-ping was one more
exchange per command, a round trip in the cloud, to guard against what a retry covers.

Every transaction starts with `lock_timeout` and `statement_timeout` set LOCAL to it, in the same
simple query as BEGIN: no extra exchange, and no session state left behind for a transaction-mode
pooler to hand to someone else. A command that would wait or run longer fails fast (Busy).
"""

from __future__ import annotations

import functools
import logging

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import PoolProxiedConnection

from shared import metrics
from shared.config import settings
from shared.errors import ConfigurationError

log = logging.getLogger("shared.sql")  # every statement at DEBUG, whoever sends it

# PostgreSQL error classes we recover from by running the whole command again.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock, serialization failure
# lock_timeout (lock_not_available) and statement_timeout (query_canceled) fired: busy, not broken.
BUSY_SQLSTATES = frozenset({"55P03", "57014"})
# No SQLSTATE at all means the socket failed; these codes mean the server is going away.
_UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300"})
TRANSACTION_POOLER_PORT = 6543


def begin_statement() -> str:
    """BEGIN plus the transaction's timeouts, one simple query; the values are validated ints."""
    cfg = settings()
    return (
        f"BEGIN; SET LOCAL lock_timeout = {int(cfg.db_lock_timeout_ms)};"
        f" SET LOCAL statement_timeout = {int(cfg.db_statement_timeout_ms)}"
    )


def pg8000_url(database_url: str) -> URL:
    """Accept the usual libpq-style URL and choose the pg8000 driver.

    `postgresql://u:p@h:5432/db` is used as is; a unix socket given libpq's way
    (`?host=/dir`) becomes pg8000's `unix_sock=/dir/.s.PGSQL.<port>`.
    """
    url = make_url(database_url)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+pg8000")
    host = url.query.get("host")
    if url.drivername == "postgresql+pg8000" and isinstance(host, str) and host.startswith("/"):
        query = {k: v for k, v in url.query.items() if k != "host"}
        query["unix_sock"] = f"{host}/.s.PGSQL.{url.port or 5432}"
        url = url.set(query=query, host=None, port=None)
    return url


def create_database_engine(database_url: str) -> Engine:
    cfg = settings()
    url = pg8000_url(database_url)
    if url.drivername != "postgresql+pg8000":
        # Session speaks pg8000's own API (named prepared statements); see docs/performance.md.
        raise ConfigurationError("DATABASE_URL must be a postgresql:// URL (the pg8000 driver)")
    return create_engine(
        url,
        pool_size=cfg.db_pool_size,
        max_overflow=cfg.db_pool_size,
        pool_pre_ping=False,  # BEGIN is the ping: see the module's docstring
        pool_recycle=300,
        # pg8000 applies this to connecting and to every later socket read.
        connect_args={"timeout": cfg.db_connect_timeout_seconds},
    )


@functools.cache
def engine() -> Engine:
    """The instance's engine, created on first use so that importing costs no connection."""
    return create_database_engine(settings().database_url)


def use_prepared_statements(database_url: str) -> bool:
    choice = settings().db_prepared_statements
    if choice == "auto":
        return make_url(database_url).port != TRANSACTION_POOLER_PORT
    return choice == "on"


class Session:
    """One transaction on one pooled connection; every call below is one statement."""

    def __init__(self, pooled: PoolProxiedConnection, prepared: bool):
        self._pooled = pooled
        self._connection = pooled.driver_connection
        # We send BEGIN and COMMIT ourselves, each as one simple-query exchange.
        self._connection.autocommit = True
        self._prepared = pooled.info.setdefault("prepared_statements", {}) if prepared else None

    def begin(self) -> None:
        self._simple(begin_statement())

    def commit(self) -> None:
        self._simple("COMMIT")

    def rollback(self) -> None:
        self._simple("ROLLBACK")

    def rows(self, sql: str, **params) -> tuple[list, ...]:
        if log.isEnabledFor(logging.DEBUG):  # flattening the SQL costs; skip it when unlogged
            log.debug("%s %s", " ".join(sql.split()), params)
        if self._prepared is None:
            return self._connection.run(sql, **params)
        statement = self._prepared.get(sql)
        if statement is None:
            statement = self._prepared[sql] = self._connection.prepare(sql)
        return statement.run(**params)

    def row(self, sql: str, **params) -> list | None:
        found = self.rows(sql, **params)
        return found[0] if found else None

    def lock(self, sql: str, **params) -> list:
        """`rows` for a statement that takes row locks, its time added to the invocation's
        `lock_wait_ms` (shared/metrics.py).

        The figure is the whole statement as this client sees it: the round trip, the
        statement's own work and any wait for a row lock another transaction holds. PostgreSQL
        reports no lock wait per statement, but these statements do little besides locking:
        on an idle shop the figure is about one round trip, and what it grows by under load is
        time spent queued behind other shoppers' locks (the hot product of a drop).
        """
        with metrics.timed("lock_wait_ms"):
            return self.rows(sql, **params)

    def _simple(self, sql: str) -> None:
        log.debug(sql)
        self._connection.run(sql)


def sqlstate(error: BaseException) -> str | None:
    """The five-character SQLSTATE of a driver error, whichever layer wrapped it."""
    orig = getattr(error, "orig", None) or error
    if orig.args and isinstance(orig.args[0], dict):
        return orig.args[0].get("C")  # pg8000 carries the server's error fields as a dict
    return None


def is_connection_error(error: BaseException) -> bool:
    """True when the connection itself failed (socket, server going away)."""
    import pg8000.exceptions  # the driver's own error classes

    if getattr(error, "connection_invalidated", False):
        return True
    orig = getattr(error, "orig", None) or error
    if isinstance(orig, (pg8000.exceptions.InterfaceError, OSError)):
        return True
    code = sqlstate(error)
    return code is not None and (code.startswith("08") or code in _UNAVAILABLE_SQLSTATES)


def timed_out(error: BaseException) -> bool:
    """True when a socket timeout is anywhere in the chain: the peer did not answer at all."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, TimeoutError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
