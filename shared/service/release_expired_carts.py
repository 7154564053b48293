"""Reservations that expire: give the stock of abandoned carts back, in batches.

Adding to a cart takes stock at once; every command that touches the cart moves its
`expires_at` to now() + CART_TTL_MINUTES (in the statement that locks it). This sweep, run every
minute by the `release_expired_carts` function, deletes expired carts and returns their units.
Each batch is one statement in its own short transaction, so product locks are held for one
statement only; why it never blocks a shopper nor releases a unit twice is told beside the SQL
(shared/adapters/postgres/expired_carts.py). Idempotency keys older than 24 hours go the same way.
Idempotent: a released cart is gone, so a second run (or a parallel one) finds nothing more.
"""

from __future__ import annotations

import logging

from shared import metrics
from shared.service.idempotency import RETENTION
from shared.service.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

BATCH_SIZE = 200
MAX_BATCHES = 50  # at most 10,000 carts a run, well inside a one-minute schedule


def release_expired_carts(
    uow: UnitOfWork, batch_size: int = BATCH_SIZE, max_batches: int = MAX_BATCHES
) -> dict:
    """Release every expired cart (up to the run's cap) and drop old idempotency keys."""
    carts = units = batches = 0
    while batches < max_batches:
        batches += 1
        released_carts, released_units = _in_transaction(
            uow, lambda uow: uow.expired_carts.release_batch(batch_size)
        )
        carts, units = carts + released_carts, units + released_units
        if released_carts < batch_size:  # the rest (if any) is locked by shoppers: next run
            break
    keys = 0
    hours = int(RETENTION.total_seconds() // 3600)
    for _ in range(max_batches):
        deleted = _in_transaction(
            uow, lambda uow: uow.expired_carts.delete_old_keys(batch_size, hours)
        )
        keys += deleted
        if deleted < batch_size:
            break
    metrics.add("released_carts", carts)
    metrics.add("released_units", units)
    metrics.add("deleted_idempotency_keys", keys)
    log.info(
        "released %d units from %d expired carts in %d batches; deleted %d idempotency keys",
        units,
        carts,
        batches,
        keys,
        extra={"released_units": units, "released_carts": carts, "deleted_keys": keys},
    )
    return {"released_carts": carts, "released_units": units, "deleted_idempotency_keys": keys}


def _in_transaction(uow: UnitOfWork, statement):
    def work(uow: UnitOfWork):
        result = statement(uow)
        uow.commit()
        return result

    return uow.run(work)
