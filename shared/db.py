"""The SQLAlchemy engine: one small pool per warm function instance."""

from __future__ import annotations

import functools

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError

from shared.config import settings

# PostgreSQL error classes we recover from by running the whole command again.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock, serialization failure


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
    connect_args = {}
    url = pg8000_url(database_url)
    if url.drivername == "postgresql+pg8000":
        # pg8000 applies this to connecting and to every later socket read.
        connect_args["timeout"] = cfg.db_connect_timeout_seconds
    return create_engine(
        url,
        pool_size=cfg.db_pool_size,
        max_overflow=cfg.db_pool_size,
        pool_pre_ping=True,
        pool_recycle=300,
        isolation_level="READ COMMITTED",
        connect_args=connect_args,
    )


@functools.cache
def engine() -> Engine:
    """The instance's engine, created on first use so that importing costs no connection."""
    return create_database_engine(settings().database_url)


class DatabaseUnavailable(Exception):
    """The database cannot be reached or dropped the connection; the command did not apply."""


# No SQLSTATE at all means the socket failed; these codes mean the server is going away.
_UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300"})


def is_unavailable(error: DBAPIError) -> bool:
    code = sqlstate(error)
    return (
        error.connection_invalidated
        or code is None
        or code.startswith("08")
        or code in _UNAVAILABLE_SQLSTATES
    )


def sqlstate(error: DBAPIError) -> str | None:
    """The five-character SQLSTATE of a driver error, whichever driver raised it."""
    orig = error.orig
    code = getattr(orig, "sqlstate", None)  # psycopg
    if code is None and orig is not None and orig.args and isinstance(orig.args[0], dict):
        code = orig.args[0].get("C")  # pg8000
    return code
