"""A product's stock in buckets: which rows an add or a remove locks, and how it writes them.

A product's units may live in N bucket rows (sql/16_stock_buckets.sql): bucket 0 is the product
row itself (`products.stock`), buckets 1..N-1 are rows of `product_stock_buckets`. With N = 1
there is no extra row and a command locks the product row exactly as it always did. With N > 1,
concurrent adds of one product lock different rows instead of queueing on one.

Global lock order: the idempotency key, the cart, then product rows (bucket 0) by ascending id,
then bucket rows by ascending (product, bucket), then cart lines. A transaction waits for a
bucket only while it holds no bucket of that product, or in that ascending order:
- phase 1 locks one bucket that alone holds what is needed and that nobody holds (SKIP LOCKED
  never waits; buckets are tried in a random order so they drain at the same pace);
- phase 2, when every such bucket is held, waits for one of them, holding none;
- phase 3, when no bucket alone holds enough (always with N = 1, and on the retry), waits for
  all of them in ascending order.
So two commands can wait for each other but never in a circle. Four traps shaped the SQL:
1. SKIP LOCKED with a filter on a column that changes keeps a row locked that it then does not
   return (the filter is re-checked after the lock): the locking queries filter only on ids and
   on a bucket list computed once from the snapshot, never on `units`.
2. Inserting a cart line runs the foreign key's FOR KEY SHARE on the product row: buckets are
   locked FOR NO KEY UPDATE, which does not conflict with it (FOR UPDATE did, and made a
   checkout queue behind the adds of a hot product).
3. A bucket from phase 1 or 2 that turns out short (taken from since the snapshot) is never
   topped up by waiting for another: `holds_all_stock` is false, and the domain asks for a run
   holding every bucket (`lock_all`), so `insufficient_stock` is only ever said on the whole.
4. Buckets created after the statement's snapshot are invisible to it, so N lives on the product
   row, which phase 3 locks first: "1 + the rows I hold < N" marks the answer incomplete.
And a cost found by measuring: a transaction that waited for a row re-checks it with the lock
held, initialising every subplan of the statement; one CTE per step doubled the time per add at
N = 1. So this is a chain of LEFT JOIN LATERAL subqueries, each naming the ones before it (which
also fixes the order of the locks). It expects `cart` (the locked cart) before it.
"""

from __future__ import annotations

import json

from shared.domain import Product

LOCK_STOCK = """
left join lateral (
  -- The snapshot's view, no lock: name, price, limit, N and bucket 0's units.
  select p.id, p.name, p.price_cents, p.max_per_customer, p.stock, p.stock_buckets
  from products p
  where p.id = :product_id and cart.id is not null
) product on true
left join lateral (
  -- Buckets that alone hold what is needed, as the snapshot says, shuffled; null for N = 1 and
  -- for the retry (phase 3 at once). Computed once: the locking queries filter on this list.
  select array_agg(f.bucket order by random()) as buckets
  from (
    select 0 as bucket where product.stock >= :needed
    union all
    select b.bucket from product_stock_buckets b
    where b.product_id = product.id and b.units >= :needed
  ) f
  where product.stock_buckets > 1 and not :lock_all
) fits on true
left join lateral (
  -- Phase 1: a bucket nobody holds; bucket 0 first when the shuffle put it first, else last.
  select 0 as bucket, p.stock as units from products p
  where p.id = product.id and fits.buckets[1] = 0
  for no key update skip locked
) free0 on true
left join lateral (
  select b.bucket, b.units from product_stock_buckets b
  where b.product_id = product.id and b.bucket = any(fits.buckets) and free0.bucket is null
  order by array_position(fits.buckets, b.bucket)
  limit 1
  for no key update skip locked
) free on true
left join lateral (
  select 0 as bucket, p.stock as units from products p
  where p.id = product.id and fits.buckets[1] <> 0 and 0 = any(fits.buckets)
    and free.bucket is null
  for no key update skip locked
) free_last0 on true
left join lateral (
  -- Phase 2: every fitting bucket is held; wait for one (the shuffle's first), holding none.
  select 0 as bucket, p.stock as units from products p
  where p.id = product.id and fits.buckets[1] = 0
    and num_nulls(free0.bucket, free.bucket, free_last0.bucket) = 3
  for no key update
) waited0 on true
left join lateral (
  select b.bucket, b.units from product_stock_buckets b
  where b.product_id = product.id and b.bucket = fits.buckets[1]
    and num_nulls(free0.bucket, free.bucket, free_last0.bucket) = 3
  for no key update
) waited on true
left join lateral (
  -- Phase 3: all of them, ascending, waiting. Bucket 0 first; its latest row has the latest N.
  select 0 as bucket, p.stock as units, p.stock_buckets from products p
  where p.id = product.id and fits.buckets is null
  for no key update
) all0 on true
left join lateral (
  select array_agg(r.bucket order by r.bucket) as buckets,
         array_agg(r.units order by r.bucket) as units, count(*) as n
  from (
    select b.bucket, b.units from product_stock_buckets b
    where b.product_id = all0.bucket + product.id  -- bucket 0 is 0: this waits for all0
    order by b.bucket
    for no key update
  ) r
) rest on true
left join lateral (
  select case when all0.bucket is not null then array[0] || coalesce(rest.buckets, '{}')
              else array_remove(array[free0.bucket, free.bucket, free_last0.bucket,
                                      waited0.bucket, waited.bucket], null) end as buckets,
         case when all0.bucket is not null then array[all0.units] || coalesce(rest.units, '{}')
              else array_remove(array[free0.units, free.units, free_last0.units,
                                      waited0.units, waited.units], null) end as units,
         coalesce(all0.stock_buckets = 1 + rest.n, false) as complete,
         coalesce(all0.stock_buckets, product.stock_buckets) as n
) held on true"""

# N = 1, the usual case, kept as cheap as it always was: the product row is the one bucket, and
# it is locked (waiting) the way commands always locked it. The statement above costs two to
# three times the server time even when every bucket phase is skipped (its plan is that much
# bigger), so once a warm instance has seen a product with N = 1 it runs this one for it
# (`SingleBucketProducts`). It locks only when the snapshot still says N = 1 (a fixed value, so
# trap 1 cannot bite); if an operator has split the product since, it locks nothing and the
# command runs again with the statement above (`BucketsNotLocked`: once per warm instance).
# Holding bucket 0 is a valid hold whatever N has become since: if it falls short, `complete`
# (the latest N is 1) is false and the command runs again holding them all.
LOCK_ONE_BUCKET = """
left join lateral (
  select p.id, p.name, p.price_cents, p.max_per_customer, p.stock_buckets
  from products p
  where p.id = :product_id and cart.id is not null
) product on true
left join lateral (
  select array[0] as buckets, array[p.stock] as units, p.stock_buckets = 1 as complete,
         p.stock_buckets as n
  from products p
  where p.id = product.id and product.stock_buckets = 1
  for no key update
) held on true"""


class BucketsNotLocked(Exception):
    """The product keeps its stock in buckets, which the statement for one bucket does not
    lock: run the command again with the statement that does (it is now known)."""


class SingleBucketProducts:
    """The products this warm instance has seen kept in one row (N = 1).

    Only a hint for choosing the cheaper statement: either statement holds a valid set of
    buckets whatever N is now, so a stale hint costs one slower command, never a wrong answer.
    """

    LIMIT = 100_000  # product ids: a few MB at most; forget them all rather than grow

    def __init__(self):
        self._ids: set[int] = set()

    def __contains__(self, product_id: int) -> bool:
        return product_id in self._ids

    def saw(self, product_id: int, buckets: int | None) -> None:
        if buckets is None:
            return
        if buckets == 1:
            if len(self._ids) >= self.LIMIT:
                self._ids.clear()
            self._ids.add(product_id)
        else:
            self._ids.discard(product_id)


SINGLE_BUCKET = SingleBucketProducts()

# Signed units per locked bucket, as the domain decided (`Product.changes`): the write only
# touches rows the lock statement locked.
MOVE_STOCK = """
moves as (
  select m.bucket, m.units
  from jsonb_to_recordset(cast(:stock_moves as jsonb)) as m(bucket integer, units integer)
), moved0 as (
  update products p set stock = p.stock + m.units
  from moves m where p.id = :product_id and m.bucket = 0
), moved as (
  update product_stock_buckets b set units = b.units + m.units
  from moves m where b.product_id = :product_id and b.bucket = m.bucket
)"""


# The same when only bucket 0 moved: the product row alone, as commands always wrote it.
MOVE_ROW = """
moved as (
  update products set stock = stock + :units where id = :product_id
)"""

# The same when one other bucket moved, the usual add or remove with N > 1: one plain UPDATE,
# about 0.1 ms less server time than reading the moves from jsonb, inside the lock-hold.
MOVE_ONE_BUCKET = """
moved as (
  update product_stock_buckets set units = units + :units
  where product_id = :product_id and bucket = :bucket
)"""


def held_product(
    product_id, name, price_cents, max_per_customer, buckets, units, complete
) -> Product | None:
    """The product as the lock statement found it (None: no such product), with the buckets
    it holds and their latest units."""
    if product_id is None:
        return None
    if buckets is None:
        raise BucketsNotLocked(f"product {product_id} keeps its stock in buckets")
    return Product(
        product_id,
        name,
        price_cents,
        max_per_customer=max_per_customer,
        buckets=dict(zip(buckets, units, strict=True)),
        holds_all_stock=complete,
    )


def stock_moves(product: Product) -> str:
    return json.dumps([{"bucket": b, "units": u} for b, u in product.changes.items() if u])
