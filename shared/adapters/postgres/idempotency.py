"""The request's Idempotency-Key row, claimed and answered inside the command's own statements.

Idempotency keys cost no extra statement: the lock statement claims the key first (INSERT ... ON
CONFLICT DO UPDATE, which waits for a transaction still holding it and then returns its row) and
touches the cart only when the key is fresh; the write statement stores the answer in the same
statement as the writes. Without a key the same statements run with `idempotency_key` null.
So the SQL below is two fragments that carts.py and orders.py splice into their statements, and
one statement of its own, for a refusal (nothing else of the command is kept then).
"""

from __future__ import annotations

import json

from shared.adapters.postgres.connection import Session
from shared.service.idempotency import IdempotencyKey

# Claims the key (null: no key), or waits for the transaction that holds it and reads its answer.
# The no-op update is what makes ON CONFLICT lock and return the committed row.
CLAIM_KEY = """
claimed as (
  insert into idempotency_keys as k (user_id, key, fingerprint)
  select :user_id, cast(:idempotency_key as text), :fingerprint
  where cast(:idempotency_key as text) is not null
  on conflict (user_id, key) do update set key = excluded.key
  returning k.status, k.response, k.fingerprint
)"""

# The answer is stored by the write statement itself (null key: updates nothing).
STORE_ANSWER = """
stored as (
  update idempotency_keys set status = :answer_status, response = cast(:answer as json)
  where user_id = :user_id and key = cast(:idempotency_key as text)
)"""

# A refusal stored under a key commits on its own: nothing else of the command is kept. The
# lock statement wrote nothing to an existing cart; a cart it made for this command is deleted
# here (it holds no line yet), so a refusal renews nothing, spends no rate-limit token and
# leaves no cart behind.
_STORE_REFUSAL = """
with unmade as (
  delete from carts where id = cast(:made_cart_id as bigint)
)
update idempotency_keys set status = :answer_status, response = cast(:answer as json)
where user_id = :user_id and key = :idempotency_key
"""


class IdempotencyRecords:
    """One transaction's view of its key: the parameters its statements carry, and the claim."""

    def __init__(self, session: Session, key: IdempotencyKey | None):
        self._session = session
        self._key = key
        self.claimed = False  # this transaction inserted the key's row and must fill it
        self._answer: dict | None = None
        self._made_cart_id: int | None = None

    def claim_params(self) -> dict:
        key = self._key
        return {
            "idempotency_key": key.value if key else None,
            "fingerprint": key.fingerprint if key else None,
        }

    def check_claim(self, status, response, stored_fingerprint) -> None:
        """What the lock statement found: ours to fill, or `Replayed` / `IdempotencyKeyReused`."""
        if self._key is not None:
            self._key.check_claim(status, response, stored_fingerprint)
            self.claimed = True

    def remember(self, answer: dict) -> None:
        self._answer = answer

    def made_cart(self, cart_id: int) -> None:
        """The lock statement made this cart for the command: a stored refusal takes it back."""
        self._made_cart_id = cart_id

    def answer_params(self, user_id) -> dict:
        """The write statement's parameters for STORE_ANSWER (all null when nothing is stored)."""
        return self._params(user_id, 200, self._answer)

    def store(self, status: int, body: dict) -> None:
        self._session.row(
            _STORE_REFUSAL,
            made_cart_id=self._made_cart_id,
            **self._params(self._key.user_id, status, body),
        )

    def _params(self, user_id, status: int, answer: dict | None) -> dict:
        stored = self.claimed
        return {
            "user_id": user_id,
            "idempotency_key": self._key.value if stored else None,
            "answer_status": status if stored else None,
            "answer": json.dumps(answer) if stored else None,
        }
