"""Relay the outbox: publish OrderPlaced events that are still pending.

Checkout calls `publish_order` once its order has committed; the scheduled relay-outbox job calls
`relay_pending` for whatever is left. Without a publisher (no queue configured: local
development) events stay in the outbox and are only logged.
"""

from __future__ import annotations

import json
import logging
import uuid

from shared import metrics
from shared.service.ports import EventPublisher, PendingEvent
from shared.service.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
MAX_BATCHES_PER_RELAY = 20


def publish_order(uow: UnitOfWork, publisher: EventPublisher, order_id: uuid.UUID) -> None:
    """Try to send the order's event now; on any failure it stays pending for the relay."""
    try:
        with uow:
            _publish(uow, publisher, uow.outbox.claim_pending_of_order(order_id))
    except Exception:
        log.warning("OrderPlaced for %s left pending for relay-outbox", order_id, exc_info=True)


def relay_pending(uow: UnitOfWork, publisher: EventPublisher | None, batch_size: int) -> dict:
    """Send pending events in batches until none are left (or sending fails); returns counts.

    Then measures what is still pending and how long the oldest has waited: the operators'
    backlog figures (the alarm on an event older than 5 minutes reads them).
    """
    counts = _relay(uow, publisher, batch_size)
    metrics.add("events_sent", counts["sent"])
    metrics.add("events_failed", counts["failed"])
    with uow:  # read only: rolled back
        pending, oldest_seconds = uow.outbox.backlog()
    metrics.add("outbox_pending", pending)
    metrics.add("outbox_oldest_pending_s", oldest_seconds)
    return counts


def _relay(uow: UnitOfWork, publisher: EventPublisher | None, batch_size: int) -> dict:
    counts = {"sent": 0, "failed": 0, "pending": 0}
    for _ in range(MAX_BATCHES_PER_RELAY):
        with uow:
            events = uow.outbox.claim_pending(batch_size)
            if publisher is None:
                if events:
                    log.info(
                        "%d order events pending, none sent (no ORDER_EVENTS_QUEUE_URL): %s",
                        len(events),
                        json.dumps([event.payload for event in events]),
                    )
                counts["pending"] = len(events)
                return counts  # rolled back: nothing changes without a queue
            errors = _publish(uow, publisher, events)
        failed = sum(error is not None for error in errors.values())
        counts["sent"] += len(errors) - failed
        counts["failed"] += failed
        if failed or len(events) < batch_size:
            break
    log.info("relayed order events: %s", counts)
    return counts


def _publish(
    uow: UnitOfWork, publisher: EventPublisher, events: list[PendingEvent]
) -> dict[int, str | None]:
    """Send the claimed events, record the outcome of each and commit (releasing the locks)."""
    if not events:
        return {}
    errors = publisher.send(events)
    uow.outbox.record_attempts(errors)
    uow.commit()
    for event_id, error in errors.items():
        if error is not None:
            log.warning("order event %d not sent: %s", event_id, error)
    return errors
