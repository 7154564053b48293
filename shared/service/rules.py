"""The limits a command is held to, as one value the entry points hand to the use cases."""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.domain import CartLimits, RateLimit


@dataclass(frozen=True)
class ShopRules:
    cart: CartLimits = field(default_factory=CartLimits)
    rate: RateLimit = field(default_factory=RateLimit)


DEFAULT_RULES = ShopRules()
# Load tests and benchmarks measure the shop, not its limits (they print that they do this).
UNLIMITED = ShopRules(CartLimits(max_lines=0, max_units=0), RateLimit(per_minute=0))
