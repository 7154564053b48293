"""Checkout: turn the caller's cart into a placed order, then announce it."""

from __future__ import annotations

import uuid

from shared.domain import CartEmpty, RateLimited, admit
from shared.domain import checkout as checkout_cart
from shared.service import relay_outbox
from shared.service.idempotency import IdempotencyKey
from shared.service.ports import EventPublisher
from shared.service.rules import DEFAULT_RULES, ShopRules
from shared.service.unit_of_work import UnitOfWork

# The domain refusals this use case may raise: the API document lists them for its route.
REFUSALS = (RateLimited, CartEmpty)


def checkout(
    uow: UnitOfWork,
    user_id: uuid.UUID,
    correlation_id: str,
    key: IdempotencyKey | None = None,
    publisher: EventPublisher | None = None,
    rules: ShopRules = DEFAULT_RULES,
) -> dict:
    """The placed order. Its answer is built from the locked rows before the write, because
    with an idempotency key the write statement stores it."""

    def work(uow: UnitOfWork) -> dict:
        cart, products = uow.orders.lock_cart_for_checkout(user_id)
        admit(cart, rules.rate)
        order = checkout_cart(cart, products)
        order_id = uuid.uuid4()
        answer = {
            "order_id": str(order_id),
            "status": order.status,
            "total_cents": order.total_cents,
            # The order row's created_at defaults to now(): the same transaction timestamp.
            "created_at": cart.locked_at.isoformat(),
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
        uow.idempotency.remember(answer)
        uow.orders.save_order(cart, order, order_id, correlation_id)
        uow.commit()
        return answer

    placed_order = uow.run(work, key)
    if publisher is not None:
        # After commit, so only a committed order is ever announced; failure leaves it to the relay.
        relay_outbox.publish_order(uow, publisher, uuid.UUID(placed_order["order_id"]))
    return placed_order
