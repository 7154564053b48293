"""Settings (shared/config.py): read once per cold start, and any bad value is the same
ConfigurationError naming its variable, whichever setting it is."""

import os

import pytest

from shared import config
from shared.config import Settings, settings
from shared.errors import ConfigurationError

VARIABLES = [name.upper() for name in Settings.model_fields]


@pytest.fixture(autouse=True)
def clean(env):
    """No setting set at all, whatever the session or the shell had; each test sets its own."""
    secrets = [
        f"{name}{suffix}" for name in config.SECRETS for suffix in ("_SSM_PARAM", "_SECRET_ARN")
    ]
    env(**dict.fromkeys(VARIABLES + secrets))


def test_unset_means_the_defaults():
    assert settings() == Settings()
    assert (settings().max_body_bytes, settings().db_prepared_statements) == (16 * 1024, "auto")
    assert (settings().db_lock_timeout_ms, settings().cart_ttl_minutes) == (2000, 30)


def test_values_are_read_and_normalised(env):
    env(
        ALLOWED_ORIGINS=" http://a.example , ,http://b.example",
        DB_PREPARED_STATEMENTS="OFF",
        LOG_LEVEL="debug",
        DB_POOL_SIZE="7",
        DB_CONNECT_TIMEOUT_SECONDS="2.5",
        DB_STATEMENT_TIMEOUT_MS="2000",
        DB_LOCK_TIMEOUT_MS="",  # empty is unset
    )
    cfg = settings()
    assert cfg.allowed_origins == ("http://a.example", "http://b.example")
    assert (cfg.db_prepared_statements, cfg.log_level) == ("off", "DEBUG")
    assert (cfg.db_pool_size, cfg.db_connect_timeout_seconds) == (7, 2.5)
    assert (cfg.db_statement_timeout_ms, cfg.db_lock_timeout_ms) == (2000, 2000)


def test_read_once_per_cold_start(env):
    env(DB_POOL_SIZE="3")
    first = settings()
    os.environ["DB_POOL_SIZE"] = "4"  # the env fixture puts it back
    assert settings() is first and first.db_pool_size == 3


@pytest.mark.parametrize(
    "name, value",
    [
        ("DB_LOCK_TIMEOUT_MS", "1000; select pg_sleep(60)"),
        ("DB_LOCK_TIMEOUT_MS", "0"),
        ("DB_STATEMENT_TIMEOUT_MS", "-5"),
        ("DB_STATEMENT_TIMEOUT_MS", "2s"),
        ("CART_TTL_MINUTES", "0"),
        ("CART_TTL_MINUTES", "١٢"),  # digits, but not ASCII ones
        ("DB_STATEMENT_TIMEOUT_MS", "10000"),  # not below the 10 s socket timeout
    ],
)
def test_timeouts_and_ttl_must_be_positive_whole_numbers(env, name, value):
    env(**{name: value})
    with pytest.raises(ConfigurationError, match=name):
        settings()


@pytest.mark.parametrize(
    "name, value",
    [
        ("MAX_BODY_BYTES", "0"),
        ("MAX_BODY_BYTES", "1e3"),
        ("DB_POOL_SIZE", "two"),
        ("DB_POOL_SIZE", "-1"),
        ("DB_CONNECT_TIMEOUT_SECONDS", "0"),
        ("DB_CONNECT_TIMEOUT_SECONDS", "3601"),
        ("DB_CONNECT_TIMEOUT_SECONDS", "soon"),
        ("DB_PREPARED_STATEMENTS", "maybe"),
        ("DB_LOCK_TIMEOUT_MS", "1000000000"),
        ("LOG_LEVEL", "LOUD"),
        ("OUTBOX_BATCH_SIZE", "0"),
        ("CART_TTL_MINUTES", "30.5"),
    ],
)
def test_every_malformed_value_names_its_variable_and_nothing_else(env, name, value):
    env(**{name: value})
    with pytest.raises(ConfigurationError) as refused:
        settings()
    assert str(refused.value) == f"the setting {name} is missing or invalid"
    assert settings.cache_info().currsize == 0  # not cached: a fixed value is picked up
    assert config.log_level() == "INFO"  # logs still flow while requests answer 503


def test_plain_variables_win_and_never_touch_aws(env):
    """No AWS mock here: any call to AWS would fail, so none is made."""
    env(
        AWS_DEFAULT_REGION="eu-west-1",
        DATABASE_URL="postgresql://shop@db.example/shop",
        JWT_JWKS='{"keys": []}',
        DATABASE_URL_SSM_PARAM="/nowhere",
        JWT_JWKS_SECRET_ARN="arn:aws:secretsmanager:nowhere",
    )
    assert settings().database_url == os.environ["DATABASE_URL"]
    assert settings().jwt_jwks == os.environ["JWT_JWKS"]
