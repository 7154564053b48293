"""Add item: reserve units of a product in the caller's cart (stock leaves at once)."""

from __future__ import annotations

import uuid

from shared import metrics
from shared.domain import (
    CartLimitReached,
    InsufficientStock,
    ProductNotFound,
    PurchaseLimitReached,
    RateLimited,
    add_item_to_cart,
    admit,
)
from shared.service.idempotency import IdempotencyKey
from shared.service.rules import DEFAULT_RULES, ShopRules
from shared.service.unit_of_work import UnitOfWork

# The domain refusals this use case may raise: the API document lists them for its route.
REFUSALS = (
    RateLimited,
    ProductNotFound,
    PurchaseLimitReached,
    CartLimitReached,
    InsufficientStock,
)


def add_item(
    uow: UnitOfWork,
    user_id: uuid.UUID,
    product_id: int,
    quantity: int,
    key: IdempotencyKey | None = None,
    rules: ShopRules = DEFAULT_RULES,
) -> dict:
    """The cart line after the change: `{"product_id", "quantity"}`."""

    def work(uow: UnitOfWork) -> dict:
        cart, product = uow.carts.lock_cart_and_product(user_id, product_id, quantity)
        admit(cart, rules.rate)
        if product is None:
            raise ProductNotFound(product_id)
        add_item_to_cart(cart, product, quantity, limits=rules.cart)
        answer = {"product_id": product_id, "quantity": cart.quantity_of(product_id)}
        uow.idempotency.remember(answer)
        uow.carts.save_added(cart, product, quantity)
        uow.commit()
        return answer

    answer = uow.run(work, key)
    metrics.add("units_taken", quantity)  # once, whatever the retries; a replay never gets here
    return answer
