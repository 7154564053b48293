"""The expiry sweep's statements: expired carts and old idempotency keys, in batches.

Why a batch never blocks on, nor double-releases against, a shopper touching the same cart:
- it takes expired carts with `FOR UPDATE SKIP LOCKED`: a cart a command holds is skipped (that
  command is about to refresh its expiry), and two sweepers never take the same cart;
- a cart that a command changed after the sweep's snapshot is re-checked on the latest row
  (READ COMMITTED re-evaluates a locked row), where its expiry is in the future: not taken;
- a shopper who reaches a cart the sweep holds waits, then finds it gone and starts a fresh one.
Within a batch it follows the global lock order (carts, then products by ascending id, then the
lines, which the cart's delete cascades to), so sweepers and commands never deadlock.
"""

from __future__ import annotations

from shared.adapters.postgres.connection import Session

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


class ExpiredCartsRepository:
    def __init__(self, session: Session):
        self._session = session

    def release_batch(self, batch_size: int) -> tuple[int, int]:
        [(carts, units)] = self._session.lock(_RELEASE_BATCH, batch_size=batch_size)
        return int(carts), int(units)

    def delete_old_keys(self, batch_size: int, older_than_hours: int) -> int:
        (deleted,) = self._session.row(
            _DELETE_OLD_KEYS, batch_size=batch_size, hours=older_than_hours
        )
        return int(deleted)
