"""The use cases behind the three functions: lock, apply a domain service, save, commit."""

from __future__ import annotations

import uuid

from shared import logs, order_events
from shared.domain import (
    ProductNotFound,
    add_item_to_cart,
    checkout as checkout_cart,
    remove_item_from_cart,
)
from shared.unit_of_work import UnitOfWork, run_in_transaction


def add_item(user_id: uuid.UUID, product_id: int, quantity: int) -> dict:
    def work(uow: UnitOfWork) -> dict:
        cart, product = uow.carts.lock_cart_and_product(user_id, product_id)
        if product is None:
            raise ProductNotFound(product_id)
        add_item_to_cart(cart, product, quantity)
        in_cart = uow.carts.save_added(cart, product_id, quantity)
        uow.commit()
        return {"product_id": product_id, "quantity": in_cart}

    return run_in_transaction(work)


def remove_item(user_id: uuid.UUID, product_id: int, quantity: int) -> dict:
    def work(uow: UnitOfWork) -> dict:
        cart, product = uow.carts.lock_cart_and_product(user_id, product_id)
        if product is None:
            raise ProductNotFound(product_id)
        before = cart.quantity_of(product_id)
        line = remove_item_from_cart(cart, product, quantity)
        left = uow.carts.save_removed(cart, product_id, before - line.quantity)
        uow.commit()
        return {"product_id": product_id, "quantity": left}

    return run_in_transaction(work)


def checkout(user_id: uuid.UUID) -> dict:
    def work(uow: UnitOfWork) -> dict:
        cart, products = uow.carts.lock_cart_for_checkout(user_id)
        order = checkout_cart(cart, products)
        placed = uow.carts.save_order(cart, order, logs.correlation_id())
        uow.commit()
        return {
            "order_id": str(placed.id),
            "status": order.status,
            "total_cents": order.total_cents,
            "created_at": placed.created_at.isoformat(),
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

    placed_order = run_in_transaction(work)
    # After commit, so only a committed order is ever announced; failure leaves it to the relay.
    order_events.publish_after_checkout(uuid.UUID(placed_order["order_id"]))
    return placed_order
