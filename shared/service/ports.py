"""What the use cases ask of storage and messaging.

`shared/adapters` implements these against PostgreSQL and SQS; `tests/unit/fakes.py` implements
them in memory, so every use case runs in milliseconds without a database. Each method is one
statement (or one call) in the real adapter: the use cases are written so that a command costs a
known, pinned number of round trips.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol

from shared.domain import Cart, Order, Product


class IdempotencyRecords(Protocol):
    """The request's key row: claimed by the first lock, answered by the write that follows."""

    claimed: bool  # this transaction holds a fresh claim and must store its answer

    def remember(self, answer: dict) -> None:
        """The success answer, stored by the command's write statement itself."""

    def hold(self, cart: Cart) -> None:
        """The cart this command locked (called by the lock itself)."""

    def store(self, status: int, body: dict) -> None:
        """A refusal's answer, stored on its own statement with the held cart's rate-limit
        state (the transaction commits, so the command counts); nothing else is written."""


class Carts(Protocol):
    def lock_cart_and_product(
        self, user_id: uuid.UUID, product_id: int, units_needed: int
    ) -> tuple[Cart, Product | None]:
        """Claim the key, create the cart on first use and lock it, then the product's stock
        (a bucket nobody holds with `units_needed`, or all of them) and the cart's line."""

    def save_added(self, cart: Cart, product: Product, quantity: int) -> None:
        """Move `quantity` units from the product's buckets (`product.changes`) to the line;
        renew the reservation and store the rate-limit state."""

    def save_removed(self, cart: Cart, product: Product, returned: int) -> None:
        """Move `returned` units from the cart line back to the product's bucket."""


class Orders(Protocol):
    def lock_cart_for_checkout(self, user_id: uuid.UUID) -> tuple[Cart, dict[int, Product]]:
        """Claim the key, lock the cart and its lines (`cart.locked_at` is the order's time)."""

    def save_order(
        self, cart: Cart, order: Order, order_id: uuid.UUID, correlation_id: str
    ) -> None:
        """Write the order, its lines and its OrderPlaced event; delete the lines it ordered."""


@dataclass(frozen=True)
class PendingEvent:
    id: int
    payload: dict
    correlation_id: str


class Outbox(Protocol):
    def claim_pending(self, limit: int) -> list[PendingEvent]:
        """Lock up to `limit` unsent events, oldest first, skipping rows others hold."""

    def claim_pending_of_order(self, order_id: uuid.UUID) -> list[PendingEvent]: ...

    def record_attempts(self, errors: dict[int, str | None]) -> None:
        """`errors` maps each claimed event id to None (sent) or why sending failed."""

    def backlog(self) -> tuple[int, float]:
        """How many events are unsent, and the age in seconds of the oldest (0 when none)."""


class ExpiredCarts(Protocol):
    def release_batch(self, batch_size: int) -> tuple[int, int]:
        """Delete up to `batch_size` expired carts nobody holds; (carts, units given back)."""

    def delete_old_keys(self, batch_size: int, older_than_hours: int) -> int: ...


class EventPublisher(Protocol):
    def send(self, events: list[PendingEvent]) -> dict[int, str | None]:
        """Send a batch; each event id maps to None (sent) or why it was not sent."""
