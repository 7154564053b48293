"""The local stack's settings: every DEVSTACK_* variable is read and checked here.

Read on each call (cheap), so the tests can change them; `make run` calls `check()` first, so a
bad value stops it with one clear line before anything starts.
"""

from __future__ import annotations

import os

from functions import registry

DAY = 24 * 3600
DEFAULT_FUNCTIONS_PORT = 8081


class SettingError(ValueError):
    """A DEVSTACK_* variable has a value the stack cannot use; the message names it."""


def _integer(name: str, default: int, low: int, high: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingError(f"{name} must be a whole number, not {raw!r}") from None
    if not low <= value <= high:
        raise SettingError(f"{name} must be between {low} and {high}, not {value}")
    return value


def gateway_port() -> int:
    return _integer("DEVSTACK_GATEWAY_PORT", 54321, 1, 65535)


def functions_port() -> int:
    """The first of consecutive ports, one per function in the order of functions/registry.py."""
    return _integer(
        "DEVSTACK_FUNCTIONS_PORT", DEFAULT_FUNCTIONS_PORT, 1, 65536 - len(registry.FUNCTIONS)
    )


def functions_database_url() -> str | None:
    """Where the functions log in when the role cannot simply be swapped into DATABASE_URL (a
    server that wants a password); see database.functions_url."""
    return os.environ.get("DEVSTACK_FUNCTIONS_DATABASE_URL") or None


def scrypt_log2_n() -> int:
    """scrypt's cost for new password hashes, as log2(N): 17 is OWASP's advice (128 MiB, r=8).

    The tests set a small value so that hundreds of sign-ups stay fast.
    """
    return _integer("DEVSTACK_SCRYPT_LOG2_N", 17, 10, 20)


def refresh_token_ttl_seconds() -> int:
    """How long an unspent refresh token stays valid; each refresh issues a fresh one, so this
    is how long a session may sit idle."""
    return _integer("DEVSTACK_REFRESH_TOKEN_TTL_SECONDS", 7 * DAY, 60, 365 * DAY)


def check() -> None:
    for setting in (gateway_port, functions_port, scrypt_log2_n, refresh_token_ttl_seconds):
        setting()
