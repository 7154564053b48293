"""The locking repository of carts: add and remove lock the cart, the product's stock, the line.

Each load is one statement and each save is one statement; their SQL, the lock order and why
it is safe under READ COMMITTED are in cart_statements.py.
"""

from __future__ import annotations

import uuid

from shared.adapters.postgres.cart_statements import (
    ADD_TO_CART,
    ADD_TO_CART_BUCKET,
    ADD_TO_CART_ROW,
    LOCK_CART_AND_PRODUCT,
    LOCK_CART_AND_PRODUCT_ROW,
    REMOVE_FROM_CART,
    REMOVE_FROM_CART_BUCKET,
    REMOVE_FROM_CART_ROW,
    REREAD_HELD_BY_CART,
)
from shared.adapters.postgres.connection import Session
from shared.adapters.postgres.idempotency import IdempotencyRecords
from shared.adapters.postgres.stock import SINGLE_BUCKET, held_product, stock_moves
from shared.domain import Cart, CartItem, Product


class StaleRead(Exception):
    """The line was inserted by another command while this one was not looking: run again."""


class CartRepository:
    def __init__(
        self,
        session: Session,
        idempotency: IdempotencyRecords,
        ttl_minutes: int,
        lock_all_stock: bool = False,
    ):
        self._session = session
        self._idempotency = idempotency
        self._ttl_minutes = ttl_minutes
        self._lock_all_stock = lock_all_stock  # the retry after a short, partial hold

    def lock_cart_and_product(
        self, user_id: uuid.UUID, product_id: int, units_needed: int
    ) -> tuple[Cart, Product | None]:
        """Raises `Replayed` or `IdempotencyKeyReused` when the key already has an answer."""
        params = {
            "user_id": user_id,
            "product_id": product_id,
            "ttl_minutes": self._ttl_minutes,
            **self._idempotency.claim_params(),
        }
        if product_id in SINGLE_BUCKET and not self._lock_all_stock:
            statement = LOCK_CART_AND_PRODUCT_ROW
        else:
            statement = LOCK_CART_AND_PRODUCT
            params.update(needed=units_needed, lock_all=self._lock_all_stock)
        (
            status,
            response,
            fingerprint,
            made_cart_id,
            cart_id,
            stale,
            tokens,
            counted_at,
            now,
        ), rest = _split(self._session.lock(statement, **params)[0], 9)
        self._idempotency.check_claim(status, response, fingerprint)
        if made_cart_id is not None:
            self._idempotency.made_cart(made_cart_id)
        *found, in_cart, other_lines, other_units, ordered, buckets = rest
        SINGLE_BUCKET.saw(product_id, buckets)
        product = held_product(*found)
        if stale:
            limited = product is not None and product.max_per_customer is not None
            if cart_id is None:  # made by a twin first command after our snapshot: unseen
                raise StaleRead(f"the cart of {user_id} was made while this command waited")
            other_lines, other_units, ordered, in_cart = self._session.row(
                REREAD_HELD_BY_CART,
                cart_id=cart_id,
                user_id=user_id,
                product_id=product_id,
                limited=limited,
            )
        cart = Cart(user_id=user_id, id=cart_id, other_lines=other_lines, other_units=other_units)
        cart.rate_tokens, cart.rate_counted_at, cart.locked_at = tokens, counted_at, now
        if in_cart:
            cart.items[product_id] = CartItem(product_id, in_cart)
        if product is not None and ordered is not None:
            cart.ordered_units[product_id] = int(ordered)
        return cart, product

    def save_added(self, cart: Cart, product: Product, quantity: int) -> None:
        statements = (ADD_TO_CART, ADD_TO_CART_ROW, ADD_TO_CART_BUCKET)
        statement, params = self._write(statements, cart, product)
        (in_cart,) = self._session.row(statement, quantity=quantity, **params)
        if in_cart != cart.quantity_of(product.id):
            raise StaleRead(f"cart {cart.id} line {product.id}: read before a concurrent insert")

    def save_removed(self, cart: Cart, product: Product, returned: int) -> None:
        statements = (REMOVE_FROM_CART, REMOVE_FROM_CART_ROW, REMOVE_FROM_CART_BUCKET)
        statement, params = self._write(statements, cart, product)
        self._session.row(statement, returned=returned, **params)

    def _write(
        self, statements: tuple[str, str, str], cart: Cart, product: Product
    ) -> tuple[str, dict]:
        """`statements`: (any buckets, the product row alone, one other bucket alone)."""
        buckets, row, one_bucket = statements
        params = {
            "cart_id": cart.id,
            "product_id": product.id,
            **renewal_params(cart, self._ttl_minutes),
            **self._idempotency.answer_params(cart.user_id),
        }
        moved = {bucket: units for bucket, units in product.changes.items() if units}
        if set(moved) <= {0}:
            return row, {**params, "units": moved.get(0, 0)}
        if len(moved) == 1:
            ((bucket, units),) = moved.items()
            return one_bucket, {**params, "bucket": bucket, "units": units}
        return buckets, {**params, "stock_moves": stock_moves(product)}


def renewal_params(cart: Cart, ttl_minutes: int) -> dict:
    return {
        "ttl_minutes": ttl_minutes,
        "rate_tokens": cart.rate_tokens,
        "rate_counted_at": cart.rate_counted_at,
    }


def _split(row: list, at: int) -> tuple[list, list]:
    return row[:at], row[at:]
