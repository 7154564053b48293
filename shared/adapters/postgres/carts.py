"""The locking repository of carts: add and remove lock the cart, the product and its line.

Global lock order: the request's idempotency key row (when it has one), then the caller's cart
row, then product rows by ascending id, then the cart's lines. Every command and the expiry
sweep follow it, so two transactions can wait on each other but never deadlock. Each load is one
statement and each save is one statement; every load also refreshes the cart's expiry
(`expires_at`), in the statement that locks it.

Under READ COMMITTED a statement that waited for a lock re-reads only the rows it locks; rows it
merely joins come from the snapshot taken before the wait. So every row a decision is computed
from is locked (FOR UPDATE), and cart lines are written as deltas, so that a line another
transaction inserted after our snapshot is added to, never overwritten.
"""

from __future__ import annotations

import uuid

from shared.adapters.postgres.connection import Session
from shared.adapters.postgres.idempotency import CLAIM_KEY, STORE_ANSWER, IdempotencyRecords
from shared.domain import Cart, CartItem, Product

# A cart is only touched for a fresh claim: a replay locks nothing but its key. Referring to
# `claimed` from the cart's INSERT is what runs the claim before the cart lock, and the
# `cart.id is not null` reference keeps the product lock after the cart lock whatever plan is
# chosen.
LOCK_CART_AND_PRODUCT = f"""
with {CLAIM_KEY}, cart as (
  insert into carts as c (user_id, expires_at)
  select :user_id, now() + make_interval(mins => cast(:ttl_minutes as integer))
  where not exists (select from claimed where claimed.status is not null)
  on conflict (user_id) do update set updated_at = now(), expires_at = excluded.expires_at
  returning c.id
)
select claimed.status, claimed.response, claimed.fingerprint,
       cart.id as cart_id, p.id as product_id, p.name, p.price_cents, p.stock,
       line.quantity as in_cart
from (select) as one
left join claimed on true
left join cart on true
left join lateral (
  select id, name, price_cents, stock from products
  where id = :product_id and cart.id is not null
  for update
) p on true
left join lateral (
  select quantity from cart_items
  where cart_id = cart.id and product_id = :product_id
  for update
) line on true
"""

ADD_TO_CART = f"""
with {STORE_ANSWER}, taken as (
  update products set stock = stock - :quantity where id = :product_id
)
insert into cart_items as ci (cart_id, product_id, quantity)
values (:cart_id, :product_id, :quantity)
on conflict (cart_id, product_id) do update set quantity = ci.quantity + excluded.quantity
returning ci.quantity
"""

# Exactly one of the two line CTEs matches the locked row: it shrinks, or it goes.
_REMOVE_FROM_CART = f"""
with {STORE_ANSWER}, restocked as (
  update products set stock = stock + :returned where id = :product_id
), shrunk as (
  update cart_items set quantity = quantity - :returned
  where cart_id = :cart_id and product_id = :product_id and quantity > :returned
  returning quantity
), emptied as (
  delete from cart_items
  where cart_id = :cart_id and product_id = :product_id and quantity <= :returned
)
select coalesce((select quantity from shrunk), 0) as quantity
"""


class StaleRead(Exception):
    """The statement that locked the cart had waited and missed a line committed meanwhile.

    Only possible when the line was inserted while we waited for the cart lock (rows merely
    read come from the snapshot taken before the wait). Running the command again reads it.
    """


class CartRepository:
    def __init__(self, session: Session, idempotency: IdempotencyRecords, ttl_minutes: int):
        self._session = session
        self._idempotency = idempotency
        self._ttl_minutes = ttl_minutes

    def lock_cart_and_product(
        self, user_id: uuid.UUID, product_id: int
    ) -> tuple[Cart, Product | None]:
        """Raises `Replayed` or `IdempotencyKeyReused` when the key already has an answer."""
        status, response, stored_fingerprint, cart_id, found_id, name, price, stock, in_cart = (
            self._session.lock(
                LOCK_CART_AND_PRODUCT,
                user_id=user_id,
                product_id=product_id,
                ttl_minutes=self._ttl_minutes,
                **self._idempotency.claim_params(),
            )[0]
        )
        self._idempotency.check_claim(status, response, stored_fingerprint)
        cart = Cart(user_id=user_id, id=cart_id)
        if in_cart:
            cart.items[product_id] = CartItem(product_id, in_cart)
        if found_id is None:
            return cart, None
        return cart, Product(found_id, name, price, stock)

    def save_added(self, cart: Cart, product_id: int, quantity: int) -> None:
        (in_cart,) = self._session.row(
            ADD_TO_CART,
            cart_id=cart.id,
            product_id=product_id,
            quantity=quantity,
            **self._idempotency.answer_params(cart.user_id),
        )
        if in_cart != cart.quantity_of(product_id):
            raise StaleRead(f"cart {cart.id} line {product_id}: read before a concurrent insert")

    def save_removed(self, cart: Cart, product_id: int, returned: int) -> None:
        self._session.row(
            _REMOVE_FROM_CART,
            cart_id=cart.id,
            product_id=product_id,
            returned=returned,
            **self._idempotency.answer_params(cart.user_id),
        )
