"""The outbox table's data access: claim pending events under lock, record what sending did.

Claims use FOR UPDATE SKIP LOCKED and are held until the caller commits, so two publishers
(checkout's own attempt, relay-outbox, two relays) never hold, and so never send, the same row.
"""

from __future__ import annotations

import json
import uuid

from shared.adapters.postgres.connection import Session
from shared.service.ports import PendingEvent

_CLAIM_PENDING = """
select id, payload, correlation_id from outbox
where sent_at is null
order by id
limit :limit
for update skip locked
"""

_CLAIM_PENDING_OF_ORDER = """
select id, payload, correlation_id from outbox
where order_id = :order_id and sent_at is null
for update skip locked
"""

# One statement for the whole batch: each row is either sent now or keeps its error.
_RECORD_ATTEMPTS = """
update outbox o
set attempts = o.attempts + 1,
    sent_at = case when r.error is null then now() end,
    last_error = r.error
from jsonb_to_recordset(cast(:results as jsonb)) as r(id bigint, error text)
where o.id = r.id
"""


_BACKLOG = """
select count(*), coalesce(extract(epoch from now() - min(created_at)), 0) from outbox
where sent_at is null
"""


class OutboxRepository:
    def __init__(self, session: Session):
        self._session = session

    def claim_pending(self, limit: int) -> list[PendingEvent]:
        """Lock up to `limit` unsent events, oldest first, skipping rows others hold."""
        rows = self._session.rows(_CLAIM_PENDING, limit=limit)
        return [PendingEvent(*row) for row in rows]

    def claim_pending_of_order(self, order_id: uuid.UUID) -> list[PendingEvent]:
        rows = self._session.rows(_CLAIM_PENDING_OF_ORDER, order_id=order_id)
        return [PendingEvent(*row) for row in rows]

    def record_attempts(self, errors: dict[int, str | None]) -> None:
        """`errors` maps each claimed event id to None (sent) or why sending failed."""
        results = json.dumps([{"id": i, "error": e} for i, e in errors.items()])
        self._session.rows(_RECORD_ATTEMPTS, results=results)

    def backlog(self) -> tuple[int, float]:
        pending, oldest_seconds = self._session.row(_BACKLOG)
        return int(pending), float(oldest_seconds)
