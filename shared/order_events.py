"""Publishing OrderPlaced events from the outbox to SQS (`ORDER_EVENTS_QUEUE_URL`).

Checkout calls `publish_after_checkout` once its order has committed; relay-outbox calls
`relay_pending` on a schedule for whatever is still pending. Without a queue configured (local
development) events stay in the outbox and are only logged. boto3 is imported on first send.
"""

from __future__ import annotations

import functools
import json
import logging
import uuid

from shared.config import settings
from shared.outbox import PendingEvent
from shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
SQS_BATCH = 10  # the most SendMessageBatch accepts
MAX_BATCHES_PER_RELAY = 20


def publish_after_checkout(order_id: uuid.UUID) -> None:
    """Try to send the order's event now; on any failure it stays pending for the relay."""
    if settings().order_events_queue_url is None:
        return
    try:
        with UnitOfWork() as uow:
            _publish(uow, uow.outbox.claim_pending_of_order(order_id))
    except Exception:
        log.warning("OrderPlaced for %s left pending for relay-outbox", order_id, exc_info=True)


def relay_pending() -> dict:
    """Send pending events in batches until none are left (or sending fails); returns counts."""
    cfg = settings()
    counts = {"sent": 0, "failed": 0, "pending": 0}
    for _ in range(MAX_BATCHES_PER_RELAY):
        with UnitOfWork() as uow:
            events = uow.outbox.claim_pending(cfg.outbox_batch_size)
            if cfg.order_events_queue_url is None:
                for event in events:
                    log.info(
                        "order event %d pending (no ORDER_EVENTS_QUEUE_URL): %s",
                        event.id,
                        json.dumps(event.payload),
                    )
                counts["pending"] = len(events)
                return counts  # rolled back: nothing changes without a queue
            errors = _publish(uow, events)
        failed = sum(error is not None for error in errors.values())
        counts["sent"] += len(errors) - failed
        counts["failed"] += failed
        if failed or len(events) < cfg.outbox_batch_size:
            break
    log.info("relayed order events: %s", counts)
    return counts


def _publish(uow: UnitOfWork, events: list[PendingEvent]) -> dict[int, str | None]:
    """Send the claimed events, record the outcome of each and commit (releasing the locks)."""
    if not events:
        return {}
    errors: dict[int, str | None] = {}
    for start in range(0, len(events), SQS_BATCH):
        errors.update(_send_batch(events[start : start + SQS_BATCH]))
    uow.outbox.record_attempts(errors)
    uow.commit()
    for event_id, error in errors.items():
        if error is not None:
            log.warning("order event %d not sent: %s", event_id, error)
    return errors


def _send_batch(events: list[PendingEvent]) -> dict[int, str | None]:
    import botocore.exceptions

    entries = [
        {
            "Id": str(event.id),
            "MessageBody": json.dumps({"event_id": event.id, **event.payload}),
            "MessageAttributes": {
                "correlation_id": {"DataType": "String", "StringValue": event.correlation_id},
                "event_type": {"DataType": "String", "StringValue": event.payload["type"]},
            },
        }
        for event in events
    ]
    try:
        response = _sqs().send_message_batch(
            QueueUrl=settings().order_events_queue_url, Entries=entries
        )
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        return {event.id: str(error) or type(error).__name__ for event in events}
    errors: dict[int, str | None] = {int(ok["Id"]): None for ok in response.get("Successful", [])}
    for failure in response.get("Failed", []):
        errors[int(failure["Id"])] = f"{failure.get('Code')}: {failure.get('Message', '')}"
    return errors


@functools.cache
def _sqs():
    """One client per warm instance; created on first send so cold starts without one skip it."""
    import boto3

    return boto3.client("sqs")
