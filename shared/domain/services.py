"""Domain services: rules that span the Cart and Product aggregates, so they belong to neither.

Each service checks every rule before it changes anything, so a refused command leaves both
aggregates exactly as they were.
"""

from __future__ import annotations

from shared.domain.errors import (
    CartEmpty,
    InsufficientStock,
    InvalidQuantity,
    ItemNotInCart,
)
from shared.domain.model import Cart, CartItem, Order, OrderLine, Product


def _require_positive(quantity: int) -> None:
    # bool is an int in Python; True is not a quantity.
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise InvalidQuantity(quantity)


def add_item_to_cart(cart: Cart, product: Product, quantity: int) -> CartItem:
    """Reserve `quantity` units: stock leaves the product and lands in the cart."""
    _require_positive(quantity)
    if product.stock < quantity:
        raise InsufficientStock(product.id, quantity, product.stock)
    product.stock -= quantity
    item = cart.items.setdefault(product.id, CartItem(product.id, 0))
    item.quantity += quantity
    return item


def remove_item_from_cart(cart: Cart, product: Product, quantity: int) -> CartItem:
    """Give back up to `quantity` units; never more than the cart really holds.

    Returns the line as it is now (quantity 0 when the line is gone).
    """
    _require_positive(quantity)
    item = cart.items.get(product.id)
    if item is None:
        raise ItemNotInCart(product.id)
    returned = min(quantity, item.quantity)
    product.stock += returned
    item.quantity -= returned
    if item.quantity == 0:
        del cart.items[product.id]
    return CartItem(product.id, item.quantity)


def checkout(cart: Cart, products: dict[int, Product]) -> Order:
    """Turn the cart into an order at today's prices and empty the cart.

    Stock was already taken when the items were added, so checkout moves no stock. Payment is a
    stub: the order is simply `placed`.
    """
    if cart.is_empty:
        raise CartEmpty()
    lines = tuple(
        OrderLine(item.product_id, item.quantity, products[item.product_id].price_cents)
        for item in sorted(cart.items.values(), key=lambda i: i.product_id)
    )
    cart.items.clear()
    return Order(user_id=cart.user_id, lines=lines)
