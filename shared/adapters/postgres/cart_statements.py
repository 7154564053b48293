"""The SQL of the cart repository (carts.py): the lock statement, the re-read, the writes.

Lock order: the request's idempotency key row (when it has one), the caller's cart row, the
product's stock buckets (stock.py tells how, and why that order cannot deadlock), then the
cart's line. Every command and the expiry sweep follow it. Each load is one statement and each
save is one statement.

Under READ COMMITTED a statement that waited for a lock re-reads only the rows it locks; rows it
merely joins come from the snapshot taken before the wait. So the rows a decision rests on are
either locked (stock, the line) or guarded by the cart: every command of a customer locks their
cart first and bumps its `version`. A statement whose snapshot saw another version than the one
it locked waited for another command of the same customer, and read that customer's orders and
other lines too early: they are read again by one more statement, whose snapshot is taken with
the cart held (only then: a customer racing their own tabs). Cart lines are written as deltas,
so a line inserted meanwhile is added to, never overwritten.
The reservation (`expires_at`) and the rate-limit state are renewed only by a command that
succeeds: a refusal renews nothing and spends no token, and one stored under its key commits
only its answer (idempotency.py).
"""

from __future__ import annotations

from shared.adapters.postgres.idempotency import CLAIM_KEY, STORE_ANSWER
from shared.adapters.postgres.stock import (
    LOCK_ONE_BUCKET,
    LOCK_STOCK,
    MOVE_ONE_BUCKET,
    MOVE_ROW,
    MOVE_STOCK,
)

# A cart is only touched for a fresh claim: a replay locks nothing but its key. Referring to
# `claimed` from the cart's INSERT runs the claim before the cart lock; the stock laterals refer
# to `cart.id`, which keeps them after it whatever plan is chosen. `seen` is the cart as the
# snapshot saw it, read beside the lock for the stale check. `{stock}` is one of stock.py's two
# ways to lock the product's stock: its row alone (N = 1) or its buckets.
_LOCK_TEMPLATE = """
with {claim}, created as (
  -- A new cart is inserted; an existing one is locked without writing a row version (WHERE
  -- false locks the conflicting row, updates nothing and returns nothing): the write statement
  -- updates it once, only for a command that succeeds.
  insert into carts as c (user_id, expires_at)
  select :user_id, now() + make_interval(mins => cast(:ttl_minutes as integer))
  where not exists (select from claimed where claimed.status is not null)
  on conflict (user_id) do update set version = c.version where false
  returning c.id, c.version, c.rate_tokens, c.rate_counted_at
)
select claimed.status, claimed.response, claimed.fingerprint, created.id as made_cart_id,
       cart.id as cart_id,
       -- The snapshot saw another cart than the one held: it waited for a command of the same
       -- customer (or the cart was swept and made anew, or made by a twin first command).
       case when claimed.status is not null then false
            when created.id is not null then seen.version is not null
            else cart.id is null or seen.version is distinct from cart.version end as stale,
       cart.rate_tokens, cart.rate_counted_at, now() as now,
       product.id, product.name, product.price_cents, product.max_per_customer,
       held.buckets, held.units, held.complete,
       line.quantity as in_cart, others.lines, others.units, ordered.units,
       coalesce(held.n, product.stock_buckets) as buckets
from (select) as one
left join claimed on true
left join created on true
left join lateral (
  -- The existing cart's latest row (already locked above: no wait), or the new one.
  select * from (
    select c.id, c.version, c.rate_tokens, c.rate_counted_at from carts c
    where c.user_id = :user_id and created.id is null and claimed.status is null
    for no key update
  ) existing
  union all
  select created.id, created.version, created.rate_tokens, created.rate_counted_at
  where created.id is not null
) cart on true
left join lateral (select version from carts where user_id = :user_id) seen on true
left join lateral (
  select count(*) as lines, coalesce(sum(quantity), 0) as units from cart_items
  where cart_id = cart.id and product_id <> :product_id
) others on true
{stock}
left join lateral (
  select coalesce(sum(oi.quantity), 0) as units
  from orders o join order_items oi on oi.order_id = o.id
  where o.user_id = :user_id and oi.product_id = product.id
    and product.max_per_customer is not null
) ordered on true
left join lateral (
  -- After every bucket lock: it refers to them.
  select quantity from cart_items
  where cart_id = cart.id and product_id = :product_id and num_nulls(held.buckets) >= 0
  for update
) line on true
"""
LOCK_CART_AND_PRODUCT = _LOCK_TEMPLATE.format(claim=CLAIM_KEY, stock=LOCK_STOCK)
LOCK_CART_AND_PRODUCT_ROW = _LOCK_TEMPLATE.format(claim=CLAIM_KEY, stock=LOCK_ONE_BUCKET)

# What the lock statement read too early when it had waited for the cart: read again, now that
# the cart is held, so no other command of this customer can change any of it.
REREAD_HELD_BY_CART = """
select others.lines, others.units, ordered.units, line.quantity
from (select) as one
left join lateral (
  select count(*) as lines, coalesce(sum(quantity), 0) as units from cart_items
  where cart_id = :cart_id and product_id <> :product_id
) others on true
left join lateral (
  select coalesce(sum(oi.quantity), 0) as units
  from orders o join order_items oi on oi.order_id = o.id
  where o.user_id = :user_id and oi.product_id = :product_id and :limited
) ordered on true
left join lateral (
  select quantity from cart_items
  where cart_id = :cart_id and product_id = :product_id
  for update
) line on true
"""

# The reservation and the rate-limit state, renewed by a command that succeeds.
RENEW_CART = """
renewed as (
  update carts set updated_at = now(), version = version + 1,
    expires_at = now() + make_interval(mins => cast(:ttl_minutes as integer)),
    rate_tokens = cast(:rate_tokens as real),
    rate_counted_at = cast(:rate_counted_at as timestamptz)
  where id = :cart_id
)"""

_ADD_TEMPLATE = """
with {answer}, {stock}, {renew}
insert into cart_items as ci (cart_id, product_id, quantity)
values (:cart_id, :product_id, :quantity)
on conflict (cart_id, product_id) do update set quantity = ci.quantity + excluded.quantity
returning ci.quantity
"""

# Exactly one of the two line CTEs matches the locked row: it shrinks, or it goes.
_REMOVE_TEMPLATE = """
with {answer}, {stock}, {renew}, shrunk as (
  update cart_items set quantity = quantity - :returned
  where cart_id = :cart_id and product_id = :product_id and quantity > :returned
  returning quantity
), emptied as (
  delete from cart_items
  where cart_id = :cart_id and product_id = :product_id and quantity <= :returned
)
select coalesce((select quantity from shrunk), 0) as quantity
"""
# Three ways to write the stock (stock.py): the units moved per bucket, or when only one bucket
# moved, that row alone: the product row (bucket 0, as cheap as it always was) or another one.
_PARTS = {"answer": STORE_ANSWER, "renew": RENEW_CART}
ADD_TO_CART = _ADD_TEMPLATE.format(stock=MOVE_STOCK, **_PARTS)
ADD_TO_CART_ROW = _ADD_TEMPLATE.format(stock=MOVE_ROW, **_PARTS)
ADD_TO_CART_BUCKET = _ADD_TEMPLATE.format(stock=MOVE_ONE_BUCKET, **_PARTS)
REMOVE_FROM_CART = _REMOVE_TEMPLATE.format(stock=MOVE_STOCK, **_PARTS)
REMOVE_FROM_CART_ROW = _REMOVE_TEMPLATE.format(stock=MOVE_ROW, **_PARTS)
REMOVE_FROM_CART_BUCKET = _REMOVE_TEMPLATE.format(stock=MOVE_ONE_BUCKET, **_PARTS)
