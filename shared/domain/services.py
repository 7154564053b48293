"""Domain services: rules that span the Cart and Product aggregates, so they belong to neither.

Each service checks every rule before it changes anything, so a refused command leaves both
aggregates exactly as they were. The rules read as sentences, in the order they are checked:
the customer's own limits first (a purchase limit, the cart's caps), then the shop's stock.
"""

from __future__ import annotations

from shared.domain.errors import (
    CartEmpty,
    CartLimitReached,
    InsufficientStock,
    InvalidQuantity,
    ItemNotInCart,
    PurchaseLimitReached,
    StockNotAllHeld,
)
from shared.domain.model import Cart, CartItem, CartLimits, Order, OrderLine, Product

NO_CART_LIMITS = CartLimits(max_lines=0, max_units=0)


def _require_positive(quantity: int) -> None:
    # bool is an int in Python; True is not a quantity.
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise InvalidQuantity(quantity)


def _within_purchase_limit(cart: Cart, product: Product, quantity: int) -> None:
    limit = product.max_per_customer
    held = cart.quantity_of(product.id) + cart.ordered_units.get(product.id, 0)
    if limit is not None and held + quantity > limit:
        raise PurchaseLimitReached(product.id, limit, held, quantity)


def _within_cart_caps(cart: Cart, product: Product, quantity: int, limits: CartLimits) -> None:
    new_line = product.id not in cart.items
    if limits.max_lines and new_line and cart.line_count + 1 > limits.max_lines:
        raise CartLimitReached("lines", limits.max_lines, cart.line_count)
    if limits.max_units and cart.unit_count + quantity > limits.max_units:
        raise CartLimitReached("units", limits.max_units, cart.unit_count)


def _in_stock(product: Product, quantity: int) -> None:
    if product.stock >= quantity:
        return
    if not product.holds_all_stock:
        raise StockNotAllHeld()  # the other buckets may cover it: never refuse on a part
    raise InsufficientStock(product.id, quantity, product.stock)


def add_item_to_cart(
    cart: Cart, product: Product, quantity: int, *, limits: CartLimits = NO_CART_LIMITS
) -> CartItem:
    """Reserve `quantity` units: stock leaves the product and lands in the cart."""
    _require_positive(quantity)
    _within_purchase_limit(cart, product, quantity)
    _within_cart_caps(cart, product, quantity, limits)
    _in_stock(product, quantity)
    product.take(quantity)
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
    product.give_back(returned)
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
