"""The use cases behind the three functions: lock, apply a domain service, save, commit.

Each answer is built from the locked rows before the write, because with an idempotency key the
write statement stores it (see shared/repository.py); `key` is None for a request without one.
"""

from __future__ import annotations

import uuid

from shared import logs, order_events
from shared.domain import (
    ProductNotFound,
    add_item_to_cart,
    checkout as checkout_cart,
    remove_item_from_cart,
)
from shared.idempotency import IdempotencyKey
from shared.unit_of_work import UnitOfWork, run_in_transaction


def _lock_cart_and_existing_product(uow: UnitOfWork, user_id: uuid.UUID, product_id: int):
    cart, product = uow.carts.lock_cart_and_product(user_id, product_id)
    if product is None:
        raise ProductNotFound(product_id)
    return cart, product


def add_item(
    user_id: uuid.UUID, product_id: int, quantity: int, key: IdempotencyKey | None = None
) -> dict:
    def work(uow: UnitOfWork) -> dict:
        cart, product = _lock_cart_and_existing_product(uow, user_id, product_id)
        add_item_to_cart(cart, product, quantity)
        answer = {"product_id": product_id, "quantity": cart.quantity_of(product_id)}
        uow.carts.save_added(cart, product_id, quantity, answer)
        uow.commit()
        return answer

    return run_in_transaction(work, key=key)


def remove_item(
    user_id: uuid.UUID, product_id: int, quantity: int, key: IdempotencyKey | None = None
) -> dict:
    def work(uow: UnitOfWork) -> dict:
        cart, product = _lock_cart_and_existing_product(uow, user_id, product_id)
        before = cart.quantity_of(product_id)
        line = remove_item_from_cart(cart, product, quantity)
        answer = {"product_id": product_id, "quantity": line.quantity}
        uow.carts.save_removed(cart, product_id, before - line.quantity, answer)
        uow.commit()
        return answer

    return run_in_transaction(work, key=key)


def checkout(user_id: uuid.UUID, key: IdempotencyKey | None = None) -> dict:
    def work(uow: UnitOfWork) -> dict:
        cart, products, now = uow.carts.lock_cart_for_checkout(user_id)
        order = checkout_cart(cart, products)
        order_id = uuid.uuid4()
        answer = {
            "order_id": str(order_id),
            "status": order.status,
            "total_cents": order.total_cents,
            # The order row's created_at defaults to now(): the same transaction timestamp.
            "created_at": now.isoformat(),
            "lines": [
                {
                    "product_id": line.product_id,
                    "name": products[line.product_id].name,
                    "quantity": line.quantity,
                    "unit_price_cents": line.unit_price_cents,
                    "line_total_cents": line.total_cents,
                }
                for line in order.lines
            ],
        }
        uow.carts.save_order(cart, order, order_id, logs.correlation_id(), answer)
        uow.commit()
        return answer

    placed_order = run_in_transaction(work, key=key)
    # After commit, so only a committed order is ever announced; failure leaves it to the relay.
    order_events.publish_after_checkout(uuid.UUID(placed_order["order_id"]))
    return placed_order
