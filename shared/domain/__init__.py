"""The shop's business rules in plain Python: no Flask, SQLAlchemy or pydantic in here."""

from shared.domain.errors import (
    CartEmpty,
    CartLimitReached,
    DomainError,
    InsufficientStock,
    InvalidQuantity,
    ItemNotInCart,
    ProductNotFound,
    PurchaseLimitReached,
    RateLimited,
    StockNotAllHeld,
)
from shared.domain.model import Cart, CartItem, CartLimits, Order, OrderLine, Product
from shared.domain.rate_limit import RateLimit, admit
from shared.domain.services import add_item_to_cart, checkout, remove_item_from_cart

__all__ = [
    "Cart",
    "CartEmpty",
    "CartItem",
    "CartLimitReached",
    "CartLimits",
    "DomainError",
    "InsufficientStock",
    "InvalidQuantity",
    "ItemNotInCart",
    "Order",
    "OrderLine",
    "Product",
    "ProductNotFound",
    "PurchaseLimitReached",
    "RateLimit",
    "RateLimited",
    "StockNotAllHeld",
    "admit",
    "add_item_to_cart",
    "checkout",
    "remove_item_from_cart",
]
