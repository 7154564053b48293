"""Idempotency keys with the semantics Stripe made standard.

A client sends `Idempotency-Key` (1-255 characters of [A-Za-z0-9._:-]; a fresh one per click,
the same one when it retries). Keys are per user. The first completed answer (status and body)
is stored under (user, key) with a fingerprint of the caller, the function and the validated
body, in the same transaction as the command's writes, so it exists exactly when the writes do:

- same key, same body: the stored answer again, with `Idempotent-Replayed: true`, and the
  command is not applied a second time;
- same key, another body or another function: 422 `idempotency_key_reused`;
- a retry that arrives while the first is still running waits on the key's row lock (taken
  first, before the cart: see shared/adapters/postgres/carts.py), then gets the stored answer; a
  wait longer than `DB_LOCK_TIMEOUT_MS` answers 503 `busy_try_again`, and the client retries.

Stored: successes, and the refusals the error table marks `stored` (shared/errors.py), because
the command ran and answered; retrying the same click must not turn a refusal into a purchase
minutes later. Not stored: validation and auth failures (they never reach the database) and 5xx
answers (the transaction rolled back, so the key stays free and a retry runs the command). Keys
live 24 hours: the scheduled sweep deletes older ones (shared/service/release_expired_carts.py).

A stored error body keeps its code and message; its correlation id is the one of the request
being answered, like every error body (the header and the body always agree).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta

from shared.errors import IdempotencyKeyReused, InvalidIdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
RETENTION = timedelta(hours=24)
KEY_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,255}")


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: dict


class Replayed(Exception):
    """The key already has its answer; raised from inside the transaction, which rolls back."""

    def __init__(self, response: StoredResponse):
        super().__init__(f"replaying the stored {response.status} answer")
        self.response = response


@dataclass(frozen=True)
class IdempotencyKey:
    """One request's key: whose it is and a fingerprint of what it asks for."""

    user_id: uuid.UUID
    value: str
    fingerprint: str

    def check_claim(
        self, status: int | None, response: dict | None, stored_fingerprint: str | None
    ) -> None:
        """Decide what the claimed row means: ours to fill (returns), a replay, or a reuse.

        A row is only ever committed together with its answer, so a row without a status is
        the one this transaction has just inserted.
        """
        if status is None:
            return
        if stored_fingerprint != self.fingerprint:
            raise IdempotencyKeyReused()
        raise Replayed(StoredResponse(status, response))


def parse(header: str | None) -> str | None:
    """The key from the header; None when absent. A malformed one is refused, never trimmed."""
    if header is None:
        return None
    if not KEY_PATTERN.fullmatch(header):
        raise InvalidIdempotencyKey(
            f"{HEADER} must be 1-255 characters of letters, digits, '.', '_', ':' or '-'"
        )
    return header


def key_for(
    header: str | None, user_id: uuid.UUID, function: str, canonical_body: str
) -> IdempotencyKey | None:
    """The request's key, fingerprinted; None when the request has none."""
    value = parse(header)
    if value is None:
        return None
    return IdempotencyKey(user_id, value, fingerprint(user_id, function, canonical_body))


def fingerprint(user_id: uuid.UUID, function: str, canonical_body: str) -> str:
    """sha-256 of who asked, what and with which (validated, canonical) body.

    The body is the pydantic model re-serialized, so `{"product_id": 1}` and
    `{"quantity": 1, "product_id": 1}` are the same request, as they mean the same thing.
    """
    digest = hashlib.sha256()
    for part in (str(user_id), function, canonical_body):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()
