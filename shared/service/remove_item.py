"""Remove item: give units back from the caller's cart to stock."""

from __future__ import annotations

import uuid

from shared.domain import ItemNotInCart, ProductNotFound, RateLimited, admit, remove_item_from_cart
from shared.service.idempotency import IdempotencyKey
from shared.service.rules import DEFAULT_RULES, ShopRules
from shared.service.unit_of_work import UnitOfWork

# The domain refusals this use case may raise: the API document lists them for its route.
REFUSALS = (RateLimited, ProductNotFound, ItemNotInCart)


def remove_item(
    uow: UnitOfWork,
    user_id: uuid.UUID,
    product_id: int,
    quantity: int,
    key: IdempotencyKey | None = None,
    rules: ShopRules = DEFAULT_RULES,
) -> dict:
    """The cart line after the change; `quantity` 0 when the line is gone."""

    def work(uow: UnitOfWork) -> dict:
        # Units given back fit any bucket: the repository holds one that nobody else holds.
        cart, product = uow.carts.lock_cart_and_product(user_id, product_id, 0)
        admit(cart, rules.rate)
        if product is None:
            raise ProductNotFound(product_id)
        before = cart.quantity_of(product_id)
        line = remove_item_from_cart(cart, product, quantity)
        answer = {"product_id": product_id, "quantity": line.quantity}
        uow.idempotency.remember(answer)
        uow.carts.save_removed(cart, product, before - line.quantity)
        uow.commit()
        return answer

    return uow.run(work, key)
