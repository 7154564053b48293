"""The repository of orders: checkout locks the cart and its lines, then places the order.

Checkout moves units that were taken from stock when they were added: it changes no product, so
it reads prices without locking products and never queues behind a hot product. It follows the
global lock order of carts.py (key, cart, lines) and deletes exactly the lines it ordered.
"""

from __future__ import annotations

import json
import uuid

from shared.adapters.postgres.cart_statements import RENEW_CART
from shared.adapters.postgres.carts import renewal_params
from shared.adapters.postgres.connection import Session
from shared.adapters.postgres.idempotency import CLAIM_KEY, STORE_ANSWER, IdempotencyRecords
from shared.domain import Cart, CartItem, Order, Product

# The cart is locked first (carts.py's order), without writing a row version: the write statement
# bumps its version and renews the reservation, for a checkout that succeeds (the rate-limit
# state also by a refusal stored under a key: idempotency.py). `now()` is the transaction's
# timestamp, which is also the order's created_at, so the answer is complete before the write.
_LOCK_CART_FOR_CHECKOUT = f"""
with {CLAIM_KEY}, cart as (
  select id, rate_tokens, rate_counted_at from carts
  where user_id = :user_id
    and not exists (select from claimed where claimed.status is not null)
  for no key update
), lines as (
  select ci.product_id, ci.quantity from cart_items ci, cart
  where ci.cart_id = cart.id
  for update of ci
)
select claimed.status, claimed.response, claimed.fingerprint, now() as now,
       cart.id as cart_id, cart.rate_tokens, cart.rate_counted_at,
       lines.product_id, lines.quantity, p.name, p.price_cents
from (select) as one
left join claimed on true
left join cart on true
left join lines on true
left join products p on p.id = lines.product_id
order by lines.product_id
"""

_PLACE_ORDER = f"""
with {STORE_ANSWER}, {RENEW_CART}, placed as (
  insert into orders (id, user_id, status, total_cents, correlation_id)
  values (:order_id, :user_id, :status, :total_cents, :correlation_id)
  returning id, created_at
), ordered as (
  insert into order_items (order_id, product_id, quantity, unit_price_cents)
  select placed.id, l.product_id, l.quantity, l.unit_price_cents
  from placed, jsonb_to_recordset(cast(:lines as jsonb))
    as l(product_id bigint, quantity integer, unit_price_cents integer)
), emptied as (
  delete from cart_items ci
  using jsonb_to_recordset(cast(:lines as jsonb)) as l(product_id bigint)
  where ci.cart_id = :cart_id and ci.product_id = l.product_id
), announced as (
  -- the OrderPlaced event, committed with its order or not at all (sql/40_outbox.sql)
  insert into outbox (event_type, order_id, correlation_id, payload)
  select 'OrderPlaced', placed.id, :correlation_id, jsonb_build_object(
    'type', 'OrderPlaced', 'order_id', placed.id, 'user_id', cast(:user_id as uuid),
    'lines', cast(:lines as jsonb), 'total_cents', cast(:total_cents as bigint),
    'created_at', placed.created_at)
  from placed
)
select id, created_at from placed
"""


class OrderRepository:
    def __init__(self, session: Session, idempotency: IdempotencyRecords, ttl_minutes: int):
        self._session = session
        self._idempotency = idempotency
        self._ttl_minutes = ttl_minutes

    def lock_cart_for_checkout(self, user_id: uuid.UUID) -> tuple[Cart, dict[int, Product]]:
        rows = self._session.lock(
            _LOCK_CART_FOR_CHECKOUT, user_id=user_id, **self._idempotency.claim_params()
        )
        status, response, stored_fingerprint, now, cart_id, tokens, counted_at = rows[0][:7]
        self._idempotency.check_claim(status, response, stored_fingerprint)
        cart = Cart(user_id=user_id, id=cart_id)
        cart.rate_tokens, cart.rate_counted_at, cart.locked_at = tokens, counted_at, now
        products: dict[int, Product] = {}
        for *_, product_id, quantity, name, price_cents in rows:
            if product_id is not None:
                cart.items[product_id] = CartItem(product_id, quantity)
                products[product_id] = Product(product_id, name, price_cents)
        return cart, products

    def save_order(
        self, cart: Cart, order: Order, order_id: uuid.UUID, correlation_id: str
    ) -> None:
        lines = json.dumps(
            [
                {
                    "product_id": line.product_id,
                    "quantity": line.quantity,
                    "unit_price_cents": line.unit_price_cents,
                }
                for line in order.lines
            ]
        )
        self._session.row(
            _PLACE_ORDER,
            order_id=order_id,
            status=order.status,
            total_cents=order.total_cents,
            correlation_id=correlation_id,
            lines=lines,
            cart_id=cart.id,
            **renewal_params(cart, self._ttl_minutes),
            **self._idempotency.answer_params(order.user_id),
        )
