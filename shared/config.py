"""Settings from the environment, read once per cold start: the one place that reads config."""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    database_url: str
    jwt_jwks: str | None
    supabase_jwks_url: str | None
    supabase_jwt_secret: str | None
    allowed_origins: tuple[str, ...]
    max_body_bytes: int
    db_pool_size: int
    db_connect_timeout_seconds: float
    db_prepared_statements: str
    log_level: str
    db_lock_timeout_ms: int
    db_statement_timeout_ms: int
    cart_ttl_minutes: int

    def __post_init__(self):
        # pg8000's socket timeout (DB_CONNECT_TIMEOUT_SECONDS) bounds every read too. It must
        # outlast the statement timeout, so that PostgreSQL cancels a slow statement (503
        # busy_try_again, connection kept) before the client drops the connection mid-statement.
        if self.db_statement_timeout_ms >= self.db_connect_timeout_seconds * 1000:
            raise ValueError(
                "DB_STATEMENT_TIMEOUT_MS must be below DB_CONNECT_TIMEOUT_SECONDS "
                f"({self.db_statement_timeout_ms} ms >= {self.db_connect_timeout_seconds} s)"
            )


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def _positive_int(name: str, default: int) -> int:
    """A whole number ≥ 1: these settings reach SQL text, so anything else is refused at start."""
    raw = os.environ.get(name) or str(default)
    if not re.fullmatch(r"[0-9]{1,9}", raw) or int(raw) < 1:
        raise ValueError(f"{name} must be a whole number ≥ 1, not {raw!r}")
    return int(raw)


def _choice(name: str, allowed: tuple[str, ...]) -> str:
    value = (os.environ.get(name) or allowed[0]).lower()
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    return value


@functools.cache
def settings() -> Settings:
    """Read the environment once; tests that change it call `settings.cache_clear()`."""
    env = os.environ
    return Settings(
        database_url=env.get("DATABASE_URL", ""),
        jwt_jwks=env.get("JWT_JWKS") or None,
        supabase_jwks_url=env.get("SUPABASE_JWKS_URL") or None,
        supabase_jwt_secret=env.get("SUPABASE_JWT_SECRET") or None,
        allowed_origins=tuple(
            o.strip() for o in env.get("ALLOWED_ORIGINS", "").split(",") if o.strip()
        ),
        max_body_bytes=_int("MAX_BODY_BYTES", 16 * 1024),
        db_pool_size=_int("DB_POOL_SIZE", 2),
        db_connect_timeout_seconds=float(env.get("DB_CONNECT_TIMEOUT_SECONDS") or 10),
        db_prepared_statements=_choice("DB_PREPARED_STATEMENTS", ("auto", "on", "off")),
        log_level=env.get("LOG_LEVEL", "INFO").upper(),
        db_lock_timeout_ms=_positive_int("DB_LOCK_TIMEOUT_MS", 2000),
        db_statement_timeout_ms=_positive_int("DB_STATEMENT_TIMEOUT_MS", 4000),
        cart_ttl_minutes=_positive_int("CART_TTL_MINUTES", 30),
    )
