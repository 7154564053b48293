"""Reservations that expire: give the stock of abandoned carts back, in batches.

Adding to a cart takes stock at once; every command that touches the cart moves its
`expires_at` to now() + CART_TTL_MINUTES (in the statement that locks it). The sweep, run every
minute by the `release_expired_carts` function, deletes expired carts and returns their units.

Why it never blocks on, nor double-releases against, a shopper touching the same cart:
- it takes expired carts with `FOR UPDATE SKIP LOCKED`: a cart a command holds is skipped (that
  command is about to refresh its expiry), and two sweepers never take the same cart;
- a cart that a command changed after the sweep's snapshot is re-checked on the latest row
  (READ COMMITTED re-evaluates a locked row), where its expiry is in the future: not taken;
- a shopper who reaches a cart the sweep holds waits, then finds it gone and starts a fresh one.
Within a batch it follows the global lock order (carts, then products by ascending id, then the
lines, which the cart's delete cascades to), so sweepers and commands never deadlock.

Each batch is one statement in its own short transaction, so product locks are held for one
statement only. Idempotency keys older than 24 hours are deleted the same way.
"""

from __future__ import annotations

import logging

from shared.idempotency import RETENTION
from shared.unit_of_work import UnitOfWork, run_in_transaction

log = logging.getLogger(__name__)

BATCH_SIZE = 200
MAX_BATCHES = 50  # at most 10,000 carts a run, well inside a one-minute schedule

# Lines of a locked cart can only change through its lock, so reading them plainly is exact.
# The scalar subquery over `locked` runs before the UPDATE touches a row, so every product is
# locked in ascending order first, whatever order the UPDATE's join visits them in.
_RELEASE_BATCH = """
with expired as (
  select id from carts
  where expires_at <= now()
  order by expires_at
  limit :batch_size
  for update skip locked
), held as (
  select ci.product_id, sum(ci.quantity) as units
  from cart_items ci join expired on expired.id = ci.cart_id
  group by ci.product_id
), locked as (
  select p.id from products p join held on held.product_id = p.id
  order by p.id
  for update of p
), restocked as (
  update products p set stock = p.stock + held.units
  from held
  where p.id = held.product_id and (select count(*) from locked) >= 0
  returning held.units
), dropped as (
  delete from carts where id in (select id from expired)
)
select (select count(*) from expired) as carts,
       coalesce((select sum(units) from restocked), 0) as units
"""

_DELETE_OLD_KEYS = """
with old as (
  select user_id, key from idempotency_keys
  where created_at < now() - make_interval(hours => cast(:hours as integer))
  order by created_at
  limit :batch_size
  for update skip locked
), deleted as (
  delete from idempotency_keys k using old
  where k.user_id = old.user_id and k.key = old.key
  returning 1
)
select count(*) from deleted
"""


def release_expired_carts(batch_size: int = BATCH_SIZE, max_batches: int = MAX_BATCHES) -> dict:
    """Release every expired cart (up to the run's cap) and drop old idempotency keys.

    Idempotent: a released cart is gone, so a second run (or a parallel one) finds nothing more.
    """
    carts = units = batches = 0
    for batches in range(1, max_batches + 1):
        released_carts, released_units = _in_transaction(_RELEASE_BATCH, batch_size=batch_size)
        carts, units = carts + released_carts, units + released_units
        if released_carts < batch_size:  # the rest (if any) is locked by shoppers: next run
            break
    keys = 0
    for _ in range(max_batches):
        (deleted,) = _in_transaction(
            _DELETE_OLD_KEYS, batch_size=batch_size, hours=int(RETENTION.total_seconds() // 3600)
        )
        keys += deleted
        if deleted < batch_size:
            break
    log.info(
        "released %d units from %d expired carts in %d batches; deleted %d idempotency keys",
        units,
        carts,
        batches,
        keys,
        extra={"released_units": units, "released_carts": carts, "deleted_keys": keys},
    )
    return {"released_carts": carts, "released_units": units, "deleted_idempotency_keys": keys}


def _in_transaction(sql: str, **params) -> list:
    def work(uow: UnitOfWork) -> list:
        row = uow.session.row(sql, **params)
        uow.commit()
        return [int(value) for value in row]

    return run_in_transaction(work)
