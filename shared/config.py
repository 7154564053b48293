"""Settings from the environment, read once per cold start: the one place that reads config.

Secrets may be given as plain variables (`DATABASE_URL`) or, on AWS, as the name of an SSM
parameter (`DATABASE_URL_SSM_PARAM`, SecureString) or a Secrets Manager ARN
(`DATABASE_URL_SECRET_ARN`). Those are fetched once and cached with the rest; boto3 is imported
only then, so a function configured with plain variables never loads it.
"""

from __future__ import annotations

import functools
import logging
import os
import re
from dataclasses import dataclass

log = logging.getLogger(__name__)


class ConfigurationError(Exception):
    """A setting is missing or cannot be read; the message names it and is safe to log."""


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
    order_events_queue_url: str | None
    outbox_batch_size: int
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


def log_level() -> str:
    """Needed before anything else (and cannot fail), so it is read on its own."""
    return os.environ.get("LOG_LEVEL", "INFO").upper()


@functools.cache
def settings() -> Settings:
    """Read the environment once; tests that change it call `settings.cache_clear()`.

    A ConfigurationError is not cached: the next call tries again, so a parameter created
    after a cold start is picked up without a redeploy.
    """
    env = os.environ
    return Settings(
        database_url=_secret("DATABASE_URL") or "",
        jwt_jwks=_secret("JWT_JWKS"),
        supabase_jwks_url=env.get("SUPABASE_JWKS_URL") or None,
        supabase_jwt_secret=_secret("SUPABASE_JWT_SECRET"),
        allowed_origins=tuple(
            o.strip() for o in env.get("ALLOWED_ORIGINS", "").split(",") if o.strip()
        ),
        max_body_bytes=_int("MAX_BODY_BYTES", 16 * 1024),
        db_pool_size=_int("DB_POOL_SIZE", 2),
        db_connect_timeout_seconds=float(env.get("DB_CONNECT_TIMEOUT_SECONDS") or 10),
        db_prepared_statements=_choice("DB_PREPARED_STATEMENTS", ("auto", "on", "off")),
        log_level=log_level(),
        order_events_queue_url=env.get("ORDER_EVENTS_QUEUE_URL") or None,
        outbox_batch_size=_int("OUTBOX_BATCH_SIZE", 50),
        db_lock_timeout_ms=_positive_int("DB_LOCK_TIMEOUT_MS", 2000),
        db_statement_timeout_ms=_positive_int("DB_STATEMENT_TIMEOUT_MS", 4000),
        cart_ttl_minutes=_positive_int("CART_TTL_MINUTES", 30),
    )


def _secret(name: str) -> str | None:
    """`NAME` itself, else the SSM parameter `NAME_SSM_PARAM`, else the secret `NAME_SECRET_ARN`."""
    env = os.environ
    if env.get(name):
        return env[name]
    if env.get(f"{name}_SSM_PARAM"):
        return _fetch(f"{name}_SSM_PARAM", env[f"{name}_SSM_PARAM"], _from_ssm)
    if env.get(f"{name}_SECRET_ARN"):
        return _fetch(f"{name}_SECRET_ARN", env[f"{name}_SECRET_ARN"], _from_secrets_manager)
    return None


def _fetch(variable: str, reference: str, read) -> str:
    try:
        import botocore.exceptions  # the AWS SDK, loaded only when a secret lives in AWS
    except ImportError as error:
        raise ConfigurationError(f"{variable} is set but boto3 is not installed") from error
    try:
        return read(reference)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        # The details (parameter name, AWS's reason) go to the log; callers see the variable.
        log.error("cannot read %s (%s): %s", reference, variable, error)
        raise ConfigurationError(f"cannot read the setting {variable}") from error


def _from_ssm(name: str) -> str:
    import boto3

    response = boto3.client("ssm").get_parameter(Name=name, WithDecryption=True)
    return response["Parameter"]["Value"]


def _from_secrets_manager(arn: str) -> str:
    import boto3

    response = boto3.client("secretsmanager").get_secret_value(SecretId=arn)
    if "SecretString" not in response:
        raise ConfigurationError(f"secret {arn} holds binary data, not a string")
    return response["SecretString"]
