"""Settings: the one reader of the environment for everything under `shared/`.

Read once per cold start into a typed model and validated as a whole: any missing, malformed or
unreadable value is a `ConfigurationError` that names the variable (the details go to the log),
which every wrapper answers as 503 `configuration_error`. Not cached when it fails, so a value
fixed after a cold start is picked up without a redeploy.

Secrets may be given as plain variables (`DATABASE_URL`) or, on AWS, as the name of an SSM
parameter (`DATABASE_URL_SSM_PARAM`, SecureString) or a Secrets Manager ARN
(`DATABASE_URL_SECRET_ARN`). boto3 is imported only then, so a function configured with plain
variables never loads it.
"""

from __future__ import annotations

import functools
import logging
import os
from typing import Annotated, Literal

import pydantic
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from shared.errors import ConfigurationError

log = logging.getLogger(__name__)

# Whole numbers that reach SQL text (SET LOCAL ...) are bounded, never free-form.
Count = Annotated[int, Field(ge=1, le=999_999_999)]
Limit = Annotated[int, Field(ge=0, le=999_999_999)]  # 0 turns the limit off
SECRETS = ("DATABASE_URL", "JWT_JWKS", "SUPABASE_JWT_SECRET")


class Settings(BaseModel):
    """Each field is read from the variable of the same name in capitals."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    database_url: str = ""
    jwt_jwks: str | None = None
    supabase_url: str | None = None
    supabase_jwks_url: Annotated[str | None, Field(pattern=r"^https?://[^\s]+$")] = None
    jwks_cache_seconds: Count = 600
    supabase_jwt_secret: str | None = None
    # Checked whenever set; defaults to SUPABASE_URL + /auth/v1, the issuer Supabase writes.
    jwt_issuer: str | None = None
    jwt_max_lifetime_seconds: Count = 24 * 3600
    allowed_origins: tuple[str, ...] = ()
    max_body_bytes: Count = 16 * 1024
    db_pool_size: Count = 2
    db_connect_timeout_seconds: Annotated[float, Field(gt=0, le=3600)] = 10.0
    db_prepared_statements: Literal["auto", "on", "off"] = "auto"
    db_lock_timeout_ms: Count = 2000
    db_statement_timeout_ms: Count = 4000
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    order_events_queue_url: str | None = None
    outbox_batch_size: Count = 50
    cart_ttl_minutes: Count = 30
    # How long one run of the expiry sweep may go on (its schedule is every minute).
    sweep_budget_seconds: Annotated[float, Field(gt=0, le=900)] = 40.0
    # Limits that keep a drop fair (docs/reliability.md); each 0 turns it off.
    cart_max_lines: Limit = 50
    cart_max_units: Limit = 100
    rate_limit_per_minute: Limit = 60
    rate_limit_burst: Count = 10
    # CloudWatch's rules for a namespace; one per stage when stages share an account.
    metrics_namespace: Annotated[str, Field(pattern=r"^[0-9A-Za-z.\-_/#: ]{1,255}$")] = (
        "ShoppingSystem"
    )

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value):
        if isinstance(value, str):
            return tuple(origin.strip() for origin in value.split(",") if origin.strip())
        return value

    @model_validator(mode="before")
    @classmethod
    def _issuer_from_supabase_url(cls, raw: dict) -> dict:
        if raw.get("supabase_url") and not raw.get("jwt_issuer"):
            raw = {**raw, "jwt_issuer": str(raw["supabase_url"]).rstrip("/") + "/auth/v1"}
        return raw

    @field_validator("supabase_jwt_secret")
    @classmethod
    def _long_enough(cls, value: str | None) -> str | None:
        # HS256 with a short secret can be brute-forced offline from any one token.
        if value is not None and len(value.encode()) < 32:
            raise ValueError("must be at least 32 bytes")
        return value

    @field_validator("db_prepared_statements", mode="before")
    @classmethod
    def _lower_case(cls, value):
        return value.lower() if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_case(cls, value):
        return value.upper() if isinstance(value, str) else value

    @field_validator("db_statement_timeout_ms")
    @classmethod
    def _below_socket_timeout(cls, value: int, info: ValidationInfo) -> int:
        # pg8000's socket timeout (DB_CONNECT_TIMEOUT_SECONDS) bounds every read too. It must
        # outlast the statement timeout, so that PostgreSQL cancels a slow statement (503
        # busy_try_again, connection kept) before the client drops the connection mid-statement.
        socket_timeout = info.data.get("db_connect_timeout_seconds", 0)
        if value >= socket_timeout * 1000:
            raise ValueError(f"must be below DB_CONNECT_TIMEOUT_SECONDS ({socket_timeout} s)")
        return value


@functools.cache
def settings() -> Settings:
    """The settings of this cold start; tests that change the environment call `cache_clear()`."""
    raw: dict[str, object] = {}
    for name in Settings.model_fields:
        variable = name.upper()
        value = _secret(variable) if variable in SECRETS else os.environ.get(variable)
        if value:  # unset and empty both mean the default
            raw[name] = value
    try:
        return Settings.model_validate(raw)
    except pydantic.ValidationError as error:
        problem = error.errors(include_url=False, include_input=False)[0]
        variable = ".".join(map(str, problem["loc"])).upper() or "the settings"
        log.error("configuration error: %s: %s", variable, problem["msg"])
        raise ConfigurationError(f"the setting {variable} is missing or invalid") from None


def log_level() -> str:
    """The level to log at; INFO while the settings cannot be read (requests then answer 503)."""
    try:
        return settings().log_level
    except ConfigurationError:
        return "INFO"


def metrics_namespace() -> str:
    """Where the figures go; the default while the settings cannot be read (requests then
    answer 503, and that is a figure worth having)."""
    try:
        return settings().metrics_namespace
    except ConfigurationError:
        return Settings.model_fields["metrics_namespace"].default


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
    except (
        botocore.exceptions.BotoCoreError,
        botocore.exceptions.ClientError,
        ValueError,
    ) as error:
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
        raise ValueError("the secret holds binary data, not a string")
    return response["SecretString"]
