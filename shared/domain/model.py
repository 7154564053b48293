"""Entities of the shop. Money is integer cents so totals never drift."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID


@dataclass
class Product:
    id: int
    name: str
    price_cents: int
    stock: int


@dataclass
class CartItem:
    product_id: int
    quantity: int


@dataclass
class Cart:
    user_id: UUID
    items: dict[int, CartItem] = field(default_factory=dict)
    id: int | None = None

    def quantity_of(self, product_id: int) -> int:
        item = self.items.get(product_id)
        return item.quantity if item else 0

    @property
    def is_empty(self) -> bool:
        return not self.items


@dataclass(frozen=True)
class OrderLine:
    product_id: int
    quantity: int
    unit_price_cents: int

    @property
    def total_cents(self) -> int:
        return self.quantity * self.unit_price_cents


@dataclass
class Order:
    user_id: UUID
    lines: tuple[OrderLine, ...]
    status: str = "placed"

    @property
    def total_cents(self) -> int:
        return sum(line.total_cents for line in self.lines)
