"""Reservations that expire: give the stock of abandoned carts back, in batches, within a time
budget.

Adding to a cart takes stock at once; every command that succeeds moves the cart's `expires_at`
to now() + CART_TTL_MINUTES. This sweep, run every minute by the `release_expired_carts`
function, deletes expired carts and returns their units. Each batch is one statement in its own
short transaction, so bucket locks are held for one statement only; why it never blocks a
shopper nor releases a unit twice is told beside the SQL
(shared/adapters/postgres/expired_carts.py). Idempotency keys older than 24 hours go the same
way. Idempotent: a released cart is gone, so a second run (or a parallel one) finds nothing more.

Bounded by time, not by a count: after a drop, 100,000 abandoned carts go back in one run, not
in ten while the product shows sold out. The budget (`SWEEP_BUDGET_SECONDS`, most of the
one-minute schedule) is shared: carts first, then keys with what is left (at least one batch
each, so neither starves). A batch that is not full means the rest is held by shoppers (or
gone): the next run takes it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from shared import metrics
from shared.service.idempotency import RETENTION
from shared.service.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

CART_BATCH = 200
KEY_BATCH = 5000  # a key's delete touches one small row: big batches, few transactions


def release_expired_carts(
    uow: UnitOfWork,
    budget_seconds: float = 40,
    cart_batch: int = CART_BATCH,
    key_batch: int = KEY_BATCH,
    clock: Callable[[], float] = time.monotonic,
) -> dict:
    """Release expired carts and drop old idempotency keys until done or out of time."""
    deadline = clock() + budget_seconds
    carts = units = batches = 0
    while True:
        released_carts, released_units = _in_transaction(
            uow, lambda uow: uow.expired_carts.release_batch(cart_batch)
        )
        carts, units, batches = carts + released_carts, units + released_units, batches + 1
        carts_done = released_carts < cart_batch
        if carts_done or clock() >= deadline:
            break
    keys = 0
    hours = int(RETENTION.total_seconds() // 3600)
    while True:
        deleted = _in_transaction(
            uow, lambda uow: uow.expired_carts.delete_old_keys(key_batch, hours)
        )
        keys += deleted
        keys_done = deleted < key_batch
        if keys_done or clock() >= deadline:
            break
    # Finished means nothing is left for the next run (a short batch of each), not that time
    # was left: a run that emptied the backlog just past its budget finished all the same.
    finished = carts_done and keys_done
    metrics.add("released_carts", carts)
    metrics.add("released_units", units)
    metrics.add("deleted_idempotency_keys", keys)
    log.info(
        "released %d units from %d expired carts in %d batches; deleted %d idempotency keys%s",
        units,
        carts,
        batches,
        keys,
        "" if finished else " (out of time: the next run goes on)",
        extra={"released_units": units, "released_carts": carts, "deleted_keys": keys},
    )
    return {
        "released_carts": carts,
        "released_units": units,
        "deleted_idempotency_keys": keys,
        "finished": finished,
    }


def _in_transaction(uow: UnitOfWork, statement):
    def work(uow: UnitOfWork):
        result = statement(uow)
        uow.commit()
        return result

    return uow.run(work)
