"""Which adapter stands behind each port: the one place the use cases are wired to PostgreSQL
and SQS. Tests wire the same use cases to in-memory fakes instead (tests/unit/fakes.py)."""

from __future__ import annotations

from shared.adapters.postgres.unit_of_work import PostgresUnitOfWork
from shared.adapters.sqs import SqsPublisher
from shared.config import settings
from shared.domain import CartLimits, RateLimit
from shared.service.ports import EventPublisher
from shared.service.rules import ShopRules
from shared.service.unit_of_work import UnitOfWork


def unit_of_work() -> UnitOfWork:
    return PostgresUnitOfWork()


def order_events() -> EventPublisher | None:
    """The queue OrderPlaced events go to; None when none is configured (local development)."""
    queue_url = settings().order_events_queue_url
    return SqsPublisher(queue_url) if queue_url else None


def rules() -> ShopRules:
    """CART_MAX_LINES, CART_MAX_UNITS, RATE_LIMIT_PER_MINUTE, RATE_LIMIT_BURST (0: off)."""
    cfg = settings()
    return ShopRules(
        CartLimits(max_lines=cfg.cart_max_lines, max_units=cfg.cart_max_units),
        RateLimit(per_minute=cfg.rate_limit_per_minute, burst=cfg.rate_limit_burst),
    )
