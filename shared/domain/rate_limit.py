"""The per-customer rate limit: a token bucket, kept on a row the command locks anyway.

Each command spends one token; tokens come back at `per_minute` a minute, up to `burst`. The
state (tokens left, when they were counted) is passed in and the new state handed back, so the
rule stays here and the storage stays with the repository.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from shared.domain.errors import RateLimited
from shared.domain.model import Cart


@dataclass(frozen=True)
class RateLimit:
    per_minute: int = 60  # 0 turns the limit off
    burst: int = 10

    def spend(
        self, tokens: float | None, counted_at: datetime | None, now: datetime
    ) -> tuple[float, datetime]:
        """The state after one more command, or `RateLimited` with how long to wait."""
        if not self.per_minute:
            return float(self.burst), now
        per_second = self.per_minute / 60
        if tokens is None or counted_at is None:  # a customer's first command
            tokens, counted_at = float(self.burst), now
        elapsed = max((now - counted_at).total_seconds(), 0.0)
        available = min(float(self.burst), tokens + elapsed * per_second)
        if available < 1:
            raise RateLimited(self.per_minute, math.ceil((1 - available) / per_second))
        return available - 1, now


def admit(cart: Cart, limit: RateLimit) -> None:
    """Spend one of the customer's tokens on this command (kept on the cart), or refuse it."""
    cart.rate_tokens, cart.rate_counted_at = limit.spend(
        cart.rate_tokens, cart.rate_counted_at, cart.locked_at
    )
