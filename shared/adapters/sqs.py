"""Publishing events to SQS (`ORDER_EVENTS_QUEUE_URL`); boto3 is imported on first send."""

from __future__ import annotations

import functools
import json

from shared.service.ports import PendingEvent

SQS_BATCH = 10  # the most SendMessageBatch accepts


class SqsPublisher:
    def __init__(self, queue_url: str):
        self.queue_url = queue_url

    def send(self, events: list[PendingEvent]) -> dict[int, str | None]:
        """Each event id -> None (sent) or why it was not; a failed call fails its batch only."""
        errors: dict[int, str | None] = {}
        for start in range(0, len(events), SQS_BATCH):
            errors.update(self._send_batch(events[start : start + SQS_BATCH]))
        return errors

    def _send_batch(self, events: list[PendingEvent]) -> dict[int, str | None]:
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
            response = _client().send_message_batch(QueueUrl=self.queue_url, Entries=entries)
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
            return {event.id: str(error) or type(error).__name__ for event in events}
        errors: dict[int, str | None] = {
            int(ok["Id"]): None for ok in response.get("Successful", [])
        }
        for failure in response.get("Failed", []):
            errors[int(failure["Id"])] = f"{failure.get('Code')}: {failure.get('Message', '')}"
        return errors


@functools.cache
def _client():
    """One client per warm instance; created on first send so cold starts without one skip it."""
    import boto3

    return boto3.client("sqs")
