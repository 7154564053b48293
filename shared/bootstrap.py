"""Which adapter stands behind each port: the one place the use cases are wired to PostgreSQL
and SQS. Tests wire the same use cases to in-memory fakes instead (tests/unit/fakes.py)."""

from __future__ import annotations

from shared.adapters.postgres.unit_of_work import PostgresUnitOfWork
from shared.adapters.sqs import SqsPublisher
from shared.config import settings
from shared.service.ports import EventPublisher
from shared.service.unit_of_work import UnitOfWork


def unit_of_work() -> UnitOfWork:
    return PostgresUnitOfWork()


def order_events() -> EventPublisher | None:
    """The queue OrderPlaced events go to; None when none is configured (local development)."""
    queue_url = settings().order_events_queue_url
    return SqsPublisher(queue_url) if queue_url else None
