"""The locking repository: loads what a command touches under row locks, then writes it back.

Global lock order: the caller's cart row first, then product rows by ascending id, then the
cart's lines. Every command follows it, so two commands can wait on each other but never
deadlock. Each load is one statement and each save is one statement.

Under READ COMMITTED a statement that waited for a lock re-reads only the rows it locks; rows it
merely joins come from the snapshot taken before the wait. So every row a decision is computed
from is locked (FOR UPDATE), and cart lines are written as deltas, so that a line another
transaction inserted after our snapshot is added to, never overwritten.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from shared.db import Session
from shared.domain import Cart, CartItem, Order, Product

# The cart CTE runs first because both lateral subqueries refer to it; the `cart.id is not null`
# reference is what keeps the product lock after the cart lock whatever plan is chosen.
_LOCK_CART_AND_PRODUCT = """
with cart as (
  insert into carts as c (user_id) values (:user_id)
  on conflict (user_id) do update set updated_at = now()
  returning c.id
)
select cart.id as cart_id, p.id as product_id, p.name, p.price_cents, p.stock,
       line.quantity as in_cart
from cart
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

_ADD_TO_CART = """
with taken as (
  update products set stock = stock - :quantity where id = :product_id
)
insert into cart_items as ci (cart_id, product_id, quantity)
values (:cart_id, :product_id, :quantity)
on conflict (cart_id, product_id) do update set quantity = ci.quantity + excluded.quantity
returning ci.quantity
"""

# Exactly one of the two line CTEs matches the locked row: it shrinks, or it goes.
_REMOVE_FROM_CART = """
with restocked as (
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

# Checkout moves units that were taken from stock when they were added: it changes no product,
# so it reads prices without locking products and never queues behind a hot product.
_LOCK_CART_FOR_CHECKOUT = """
with cart as (
  select id from carts where user_id = :user_id for update
), lines as (
  select ci.product_id, ci.quantity from cart_items ci, cart
  where ci.cart_id = cart.id
  for update of ci
)
select cart.id as cart_id, lines.product_id, lines.quantity, p.name, p.price_cents, p.stock
from cart
left join lines on true
left join products p on p.id = lines.product_id
order by lines.product_id
"""

_PLACE_ORDER = """
with placed as (
  insert into orders (user_id, status, total_cents, correlation_id)
  values (:user_id, :status, :total_cents, :correlation_id)
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


@dataclass(frozen=True)
class PlacedOrder:
    id: uuid.UUID
    created_at: datetime


class CartRepository:
    def __init__(self, session: Session):
        self._session = session

    def lock_cart_and_product(
        self, user_id: uuid.UUID, product_id: int
    ) -> tuple[Cart, Product | None]:
        """Create the cart on first use, lock it, the product and the cart's line for it."""
        cart_id, found_id, name, price_cents, stock, in_cart = self._session.row(
            _LOCK_CART_AND_PRODUCT, user_id=user_id, product_id=product_id
        )
        cart = Cart(user_id=user_id, id=cart_id)
        if in_cart:
            cart.items[product_id] = CartItem(product_id, in_cart)
        if found_id is None:
            return cart, None
        return cart, Product(found_id, name, price_cents, stock)

    def save_added(self, cart: Cart, product_id: int, quantity: int) -> int:
        """Move `quantity` units from stock to the cart line; returns the line's quantity now."""
        (in_cart,) = self._session.row(
            _ADD_TO_CART, cart_id=cart.id, product_id=product_id, quantity=quantity
        )
        return in_cart

    def save_removed(self, cart: Cart, product_id: int, returned: int) -> int:
        """Move `returned` units from the cart line back to stock; returns what is left."""
        (left,) = self._session.row(
            _REMOVE_FROM_CART, cart_id=cart.id, product_id=product_id, returned=returned
        )
        return left

    def lock_cart_for_checkout(self, user_id: uuid.UUID) -> tuple[Cart, dict[int, Product]]:
        rows = self._session.rows(_LOCK_CART_FOR_CHECKOUT, user_id=user_id)
        cart = Cart(user_id=user_id, id=rows[0][0] if rows else None)
        products: dict[int, Product] = {}
        for _, product_id, quantity, name, price_cents, stock in rows:
            if product_id is not None:
                cart.items[product_id] = CartItem(product_id, quantity)
                products[product_id] = Product(product_id, name, price_cents, stock)
        return cart, products

    def save_order(self, cart: Cart, order: Order, correlation_id: str) -> PlacedOrder:
        """Write the order and its lines, and delete exactly the cart lines it ordered."""
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
        order_id, created_at = self._session.row(
            _PLACE_ORDER,
            user_id=order.user_id,
            status=order.status,
            total_cents=order.total_cents,
            correlation_id=correlation_id,
            lines=lines,
            cart_id=cart.id,
        )
        return PlacedOrder(id=order_id, created_at=created_at)
