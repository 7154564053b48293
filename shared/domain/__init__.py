"""The shop's business rules in plain Python: no Flask, SQLAlchemy or pydantic in here."""

from shared.domain.errors import (
    CartEmpty,
    DomainError,
    InsufficientStock,
    InvalidQuantity,
    ItemNotInCart,
    ProductNotFound,
)
from shared.domain.model import Cart, CartItem, Order, OrderLine, Product
from shared.domain.services import add_item_to_cart, checkout, remove_item_from_cart

__all__ = [
    "Cart",
    "CartEmpty",
    "CartItem",
    "DomainError",
    "InsufficientStock",
    "InvalidQuantity",
    "ItemNotInCart",
    "Order",
    "OrderLine",
    "Product",
    "ProductNotFound",
    "add_item_to_cart",
    "checkout",
    "remove_item_from_cart",
]
