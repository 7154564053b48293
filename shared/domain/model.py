"""Entities of the shop. Money is integer cents so totals never drift."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID


@dataclass
class Product:
    """A product, with the stock this command holds.

    A product's units may live in several bucket rows, so that buyers of one hot product do not
    all queue on one row lock. `buckets` maps each bucket the command holds to its units: one
    bucket with enough units, or every bucket of the product when none alone had enough. So
    `stock`, the units held, is the product's whole stock exactly when a request exceeds it.
    """

    id: int
    name: str
    price_cents: int
    stock: int = 0
    max_per_customer: int | None = None  # units in a customer's cart plus orders; None: no limit
    buckets: dict[int, int] = field(default_factory=dict)
    # Whether `buckets` are all of the product's buckets, so `stock` is its whole stock.
    holds_all_stock: bool = True
    # What this command did to each bucket (units, signed): what the repository writes back.
    changes: dict[int, int] = field(default_factory=dict)

    def __post_init__(self):
        if self.buckets:
            self.stock = sum(self.buckets.values())
        else:
            self.buckets = {0: self.stock}

    def take(self, quantity: int) -> None:
        """Take `quantity` units (the caller checked there are enough), buckets in ascending
        order, each emptied before the next is touched."""
        left = quantity
        for bucket in sorted(self.buckets):
            units = min(left, self.buckets[bucket])
            if units > 0:
                self._change(bucket, -units)
                left -= units

    def give_back(self, quantity: int) -> None:
        """Return units to the first bucket held: any bucket will do, units are all alike."""
        self._change(min(self.buckets), quantity)

    def _change(self, bucket: int, units: int) -> None:
        self.buckets[bucket] += units
        self.changes[bucket] = self.changes.get(bucket, 0) + units
        self.stock += units


@dataclass
class CartItem:
    product_id: int
    quantity: int


@dataclass
class Cart:
    """A customer's cart. `items` holds the lines a command loaded; `other_lines` and
    `other_units` count the lines it did not load, so the cart's caps can still be checked."""

    user_id: UUID
    items: dict[int, CartItem] = field(default_factory=dict)
    id: int | None = None
    other_lines: int = 0
    other_units: int = 0
    # Units of each loaded product the customer already ordered: purchase limits count them.
    ordered_units: dict[int, int] = field(default_factory=dict)
    # The customer's rate-limit state as stored, and when this command locked the cart.
    rate_tokens: float | None = None
    rate_counted_at: datetime | None = None
    locked_at: datetime | None = None

    def quantity_of(self, product_id: int) -> int:
        item = self.items.get(product_id)
        return item.quantity if item else 0

    @property
    def line_count(self) -> int:
        return len(self.items) + self.other_lines

    @property
    def unit_count(self) -> int:
        return sum(item.quantity for item in self.items.values()) + self.other_units

    @property
    def is_empty(self) -> bool:
        return not self.items


@dataclass(frozen=True)
class CartLimits:
    """How big one cart may grow; 0 turns a limit off (load tests, benchmarks)."""

    max_lines: int = 50
    max_units: int = 100


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
