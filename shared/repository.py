"""The locking repository: loads what a command touches under row locks, then writes it back.

Global lock order: the request's idempotency key row (when it has one), then the caller's cart
row, then product rows by ascending id, then the cart's lines. Every command and the expiry
sweep follow it, so two transactions can wait on each other but never deadlock. Each load is one
statement and each save is one statement.

Idempotency keys cost no extra statement: the load claims the key first (INSERT ... ON CONFLICT
DO UPDATE, which waits for a transaction still holding it and then returns its row) and touches
the cart only when the key is fresh; the save stores the answer in the same statement as the
writes. Without a key the same statements run with `idempotency_key` null. Every load also
refreshes the cart's expiry (`expires_at`), in the statement that locks it.

Under READ COMMITTED a statement that waited for a lock re-reads only the rows it locks; rows it
merely joins come from the snapshot taken before the wait. So every row a decision is computed
from is locked (FOR UPDATE), and cart lines are written as deltas, so that a line another
transaction inserted after our snapshot is added to, never overwritten.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from shared.db import Session
from shared.domain import Cart, CartItem, Order, Product
from shared.idempotency import IdempotencyKey, StoredResponse, check_claim

# Claims the key (null: no key), or waits for the transaction that holds it and reads its answer.
# The no-op update is what makes ON CONFLICT lock and return the committed row.
_CLAIM_KEY = """
claimed as (
  insert into idempotency_keys as k (user_id, key, fingerprint)
  select :user_id, cast(:idempotency_key as text), :fingerprint
  where cast(:idempotency_key as text) is not null
  on conflict (user_id, key) do update set key = excluded.key
  returning k.status, k.response, k.fingerprint
)"""

# A cart is only touched for a fresh claim: a replay locks nothing but its key. Referring to
# `claimed` from the cart's INSERT is what runs the claim before the cart lock, and the
# `cart.id is not null` reference keeps the product lock after the cart lock whatever plan is
# chosen.
_LOCK_CART_AND_PRODUCT = f"""
with {_CLAIM_KEY}, cart as (
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

# The answer is stored by the write statement itself (null key: updates nothing).
_STORE_ANSWER = """
stored as (
  update idempotency_keys set status = :answer_status, response = cast(:answer as json)
  where user_id = :user_id and key = cast(:idempotency_key as text)
)"""

_ADD_TO_CART = f"""
with {_STORE_ANSWER}, taken as (
  update products set stock = stock - :quantity where id = :product_id
)
insert into cart_items as ci (cart_id, product_id, quantity)
values (:cart_id, :product_id, :quantity)
on conflict (cart_id, product_id) do update set quantity = ci.quantity + excluded.quantity
returning ci.quantity
"""

# Exactly one of the two line CTEs matches the locked row: it shrinks, or it goes.
_REMOVE_FROM_CART = f"""
with {_STORE_ANSWER}, restocked as (
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
# so it reads prices without locking products and never queues behind a hot product. The cart
# is locked by the UPDATE that refreshes its expiry; `now()` is the transaction's timestamp,
# which is also the order's created_at, so the answer is complete before the write.
_LOCK_CART_FOR_CHECKOUT = f"""
with {_CLAIM_KEY}, cart as (
  update carts set updated_at = now(),
                   expires_at = now() + make_interval(mins => cast(:ttl_minutes as integer))
  where user_id = :user_id
    and not exists (select from claimed where claimed.status is not null)
  returning id
), lines as (
  select ci.product_id, ci.quantity from cart_items ci, cart
  where ci.cart_id = cart.id
  for update of ci
)
select claimed.status, claimed.response, claimed.fingerprint, now() as now,
       cart.id as cart_id, lines.product_id, lines.quantity, p.name, p.price_cents, p.stock
from (select) as one
left join claimed on true
left join cart on true
left join lines on true
left join products p on p.id = lines.product_id
order by lines.product_id
"""

_PLACE_ORDER = f"""
with {_STORE_ANSWER}, placed as (
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

# A refusal (404, 409) is an answer too: stored on its own, since nothing else is written.
_STORE_REFUSAL = """
update idempotency_keys set status = :answer_status, response = cast(:answer as json)
where user_id = :user_id and key = :idempotency_key
"""


class StaleRead(Exception):
    """The statement that locked the cart had waited and missed a line committed meanwhile.

    Only possible when the line was inserted while we waited for the cart lock (rows merely
    read come from the snapshot taken before the wait). Running the command again reads it.
    """


class CartRepository:
    """Loads and saves one command's rows; with an idempotency key, claims it and stores the answer."""

    def __init__(self, session: Session, key: IdempotencyKey | None, ttl_minutes: int):
        self._session = session
        self._key = key
        self._ttl_minutes = ttl_minutes
        self.claimed = False  # this transaction inserted the key's row and must fill it
        self._owner: uuid.UUID | None = None

    def lock_cart_and_product(
        self, user_id: uuid.UUID, product_id: int
    ) -> tuple[Cart, Product | None]:
        """Claim the key, create the cart on first use, lock it, the product and its line.

        Raises `Replayed` or `IdempotencyKeyReused` when the key already has an answer.
        """
        status, response, stored_fingerprint, cart_id, found_id, name, price, stock, in_cart = (
            self._session.row(
                _LOCK_CART_AND_PRODUCT,
                user_id=user_id,
                product_id=product_id,
                ttl_minutes=self._ttl_minutes,
                **self._claim_params(),
            )
        )
        self._check_claim(user_id, status, response, stored_fingerprint)
        cart = Cart(user_id=user_id, id=cart_id)
        if in_cart:
            cart.items[product_id] = CartItem(product_id, in_cart)
        if found_id is None:
            return cart, None
        return cart, Product(found_id, name, price, stock)

    def save_added(self, cart: Cart, product_id: int, quantity: int, answer: dict) -> None:
        """Move `quantity` units from stock to the cart line, as the cart now says."""
        (in_cart,) = self._session.row(
            _ADD_TO_CART,
            cart_id=cart.id,
            product_id=product_id,
            quantity=quantity,
            **self._answer_params(cart.user_id, answer),
        )
        if in_cart != cart.quantity_of(product_id):
            raise StaleRead(f"cart {cart.id} line {product_id}: read before a concurrent insert")

    def save_removed(self, cart: Cart, product_id: int, returned: int, answer: dict) -> None:
        """Move `returned` units from the (locked) cart line back to stock."""
        self._session.row(
            _REMOVE_FROM_CART,
            cart_id=cart.id,
            product_id=product_id,
            returned=returned,
            **self._answer_params(cart.user_id, answer),
        )

    def lock_cart_for_checkout(
        self, user_id: uuid.UUID
    ) -> tuple[Cart, dict[int, Product], datetime]:
        """Claim the key, lock the cart and its lines; also returns the transaction's time."""
        rows = self._session.rows(
            _LOCK_CART_FOR_CHECKOUT,
            user_id=user_id,
            ttl_minutes=self._ttl_minutes,
            **self._claim_params(),
        )
        status, response, stored_fingerprint, now, cart_id = rows[0][:5]
        self._check_claim(user_id, status, response, stored_fingerprint)
        cart = Cart(user_id=user_id, id=cart_id)
        products: dict[int, Product] = {}
        for *_, product_id, quantity, name, price_cents, stock in rows:
            if product_id is not None:
                cart.items[product_id] = CartItem(product_id, quantity)
                products[product_id] = Product(product_id, name, price_cents, stock)
        return cart, products, now

    def save_order(
        self, cart: Cart, order: Order, order_id: uuid.UUID, correlation_id: str, answer: dict
    ) -> None:
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
        self._session.row(
            _PLACE_ORDER,
            order_id=order_id,
            status=order.status,
            total_cents=order.total_cents,
            correlation_id=correlation_id,
            lines=lines,
            cart_id=cart.id,
            **self._answer_params(order.user_id, answer),
        )

    def save_refusal(self, refusal: StoredResponse) -> None:
        """Store a refusal as the answer of the key this transaction claimed."""
        self._session.row(
            _STORE_REFUSAL, **self._answer_params(self._owner, refusal.body, refusal.status)
        )

    def _claim_params(self) -> dict:
        key = self._key
        return {
            "idempotency_key": key.value if key else None,
            "fingerprint": key.fingerprint if key else None,
        }

    def _check_claim(self, user_id, status, response, stored_fingerprint) -> None:
        if self._key is not None:
            check_claim(self._key, status, response, stored_fingerprint)
            self.claimed, self._owner = True, user_id

    def _answer_params(self, user_id: uuid.UUID, answer: dict, status: int = 200) -> dict:
        stored = self.claimed
        return {
            "user_id": user_id,
            "idempotency_key": self._key.value if stored else None,
            "answer_status": status if stored else None,
            "answer": json.dumps(answer) if stored else None,
        }


# The add-item transaction's SQL, for tools that replay it without Python (make bench's pgbench
# ceiling), so that what they measure cannot drift from what the functions run.
ADD_ITEM_STATEMENTS = (_LOCK_CART_AND_PRODUCT, _ADD_TO_CART)
