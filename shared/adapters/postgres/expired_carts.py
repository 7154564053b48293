"""The expiry sweep's statements: expired carts and old idempotency keys, in batches.

Why a batch never blocks on, nor double-releases against, a shopper touching the same cart:
- it takes expired carts with `FOR UPDATE SKIP LOCKED`: a cart a command holds is skipped (that
  command is about to refresh its expiry), and two sweepers never take the same cart;
- a cart that a command changed after the sweep's snapshot is re-checked on the latest row
  (READ COMMITTED re-evaluates a locked row), where its expiry is in the future: not taken;
- a shopper who reaches a cart the sweep holds waits, then finds it gone and starts a fresh one.
Within a batch it follows the global lock order (carts, then product rows by ascending id, then
their other stock buckets, then the lines, which the cart's delete cascades to), so sweepers and
commands never deadlock (shared/adapters/postgres/stock.py).
"""

from __future__ import annotations

from shared.adapters.postgres.connection import Session

# Lines of a locked cart can only change through its lock, so reading them plainly is exact.
# Then, per product in the batch, every bucket in the global order (product rows ascending, then
# bucket rows ascending: materialized CTEs run in that order before any update), and the units
# spread evenly over the product's buckets: all of a drop's returns in one bucket would make
# every later add fit only there, and queue on it again.
_RELEASE_BATCH = """
with expired as (
  select id from carts
  where expires_at <= now()
  order by expires_at
  limit :batch_size
  for update skip locked
), held as materialized (
  select ci.product_id, sum(ci.quantity) as units
  from cart_items ci join expired on expired.id = ci.cart_id
  group by ci.product_id
), locked0 as materialized (
  select p.id from products p join held on held.product_id = p.id
  order by p.id
  for no key update of p
), locked_rest as materialized (
  select b.product_id, b.bucket from product_stock_buckets b
  join held on held.product_id = b.product_id
  where (select count(*) from locked0) >= 0
  order by b.product_id, b.bucket
  for no key update of b
), spread as materialized (
  -- bucket k of n gets units / n, plus one for the first units % n buckets
  select s.product_id, s.bucket,
         h.units / s.n + case when s.k < h.units % s.n then 1 else 0 end as units
  from (
    select product_id, bucket,
           row_number() over w - 1 as k, count(*) over (partition by product_id) as n
    from (select id as product_id, 0 as bucket from locked0
          union all select product_id, bucket from locked_rest) all_locked
    window w as (partition by product_id order by bucket)
  ) s join held h on h.product_id = s.product_id
), restocked0 as (
  update products p set stock = p.stock + s.units
  from spread s where s.bucket = 0 and p.id = s.product_id
  returning s.units
), restocked as (
  update product_stock_buckets b set units = b.units + s.units
  from spread s where s.bucket > 0 and b.product_id = s.product_id and b.bucket = s.bucket
  returning s.units
), dropped as (
  delete from carts where id in (select id from expired)
)
select (select count(*) from expired) as carts,
       coalesce((select sum(units) from restocked0), 0)
         + coalesce((select sum(units) from restocked), 0) as units
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
