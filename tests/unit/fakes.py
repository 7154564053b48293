"""In-memory stand-ins for the ports of shared/service/ports.py: a unit of work and a publisher.

`FakeUnitOfWork` keeps committed rows in `tables`. A transaction (`with uow:`) works on a copy
that `commit()` keeps and anything else drops, so a refused command really writes nothing. Each
repository does what its PostgreSQL statement does (claim the key first, lock, write deltas,
store the answer with the write); `run()` is the real one, inherited from `UnitOfWork`, so the
retry loop and the stored-refusal rule run as they do in production.
"""

from __future__ import annotations

import copy
import itertools
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from shared.domain import Cart, CartItem, Order, Product, StockNotAllHeld
from shared.errors import Busy
from shared.service import idempotency
from shared.service.idempotency import IdempotencyKey
from shared.service.ports import PendingEvent
from shared.service.unit_of_work import TryAgain, UnitOfWork
from tests.support import random_id


@dataclass
class StoredCart:
    id: int
    expires_at: datetime
    lines: dict[int, int] = field(default_factory=dict)  # product id -> quantity
    rate_tokens: float | None = None
    rate_counted_at: datetime | None = None


@dataclass
class StoredKey:
    fingerprint: str
    created_at: datetime
    status: int | None = None
    response: dict | None = None


@dataclass
class OutboxRow:
    id: int
    order_id: uuid.UUID
    payload: dict
    correlation_id: str
    attempts: int = 0
    sent_at: datetime | None = None
    last_error: str | None = None
    created_at: datetime | None = None


@dataclass
class Tables:
    products: dict[int, Product] = field(default_factory=dict)
    carts: dict[uuid.UUID, StoredCart] = field(default_factory=dict)
    orders: dict[uuid.UUID, dict] = field(default_factory=dict)
    keys: dict[tuple[uuid.UUID, str], StoredKey] = field(default_factory=dict)
    outbox: dict[int, OutboxRow] = field(default_factory=dict)


class FakeUnitOfWork(UnitOfWork):
    """`partial_holds`: an add first holds one bucket only, as the real lock does when a bucket
    that alone fits is free, and as if another buyer had just taken from it; the unit of work
    then runs it again holding them all (StockNotAllHeld), as PostgresUnitOfWork does."""

    def __init__(self, ttl_minutes: int = 30, partial_holds: bool = False):
        self.tables = Tables()
        self.now = datetime(2026, 1, 1, 12, tzinfo=UTC)  # the database's clock; tests move it
        self.ttl = timedelta(minutes=ttl_minutes)
        self.commits = 0
        self.transactions = 0
        self._ids = itertools.count(1)  # every table's sequence
        self.partial_holds = partial_holds
        self.lock_all_stock = False  # set for the one run after a short, partial hold

    def __enter__(self) -> FakeUnitOfWork:
        self.transactions += 1
        self._working = copy.deepcopy(self.tables)
        self.idempotency = FakeIdempotencyRecords(self, self.key)
        self.carts = self.orders = FakeCartsAndOrders(self, self.idempotency)
        self.outbox = FakeOutbox(self)
        self.expired_carts = FakeExpiredCarts(self)
        return self

    def commit(self) -> None:
        self.tables = copy.deepcopy(self._working)
        self.commits += 1

    def __exit__(self, exc_type, exc, tb) -> None:
        self._working = None  # whatever was not committed is gone
        if not isinstance(exc, StockNotAllHeld):
            self.lock_all_stock = False  # a new command starts from a partial hold again

    def classify(self, error: Exception) -> Exception:
        if isinstance(error, StockNotAllHeld):
            self.lock_all_stock = True
            return TryAgain(
                "the bucket held fell short: again, holding them all",
                Busy("the product's stock kept changing; try again"),
            )
        return error

    def next_id(self) -> int:
        return next(self._ids)

    # Arranging and inspecting committed rows, as tests/support.Admin does on the real database.
    def add_product(
        self,
        stock: int = 10,
        price_cents: int = 1000,
        max_per_customer: int | None = None,
        buckets: int = 1,
    ) -> int:
        """Its stock spread over `buckets` as set_product_stock spreads it."""
        product_id = self.next_id()
        self.tables.products[product_id] = Product(
            product_id,
            f"p{product_id}",
            price_cents,
            max_per_customer=max_per_customer,
            buckets=dict(enumerate(spread(stock, buckets))),
        )
        return product_id

    def stock(self, product_id: int) -> int:
        return self.tables.products[product_id].stock

    def buckets(self, product_id: int) -> list[int]:
        held = self.tables.products[product_id].buckets
        return [held[bucket] for bucket in sorted(held)]

    def in_cart(self, user_id: uuid.UUID, product_id: int) -> int:
        cart = self.tables.carts.get(user_id)
        return cart.lines.get(product_id, 0) if cart else 0

    def expire_cart(self, user_id: uuid.UUID) -> None:
        """Make the user's reservation lapse now, as if CART_TTL_MINUTES had passed."""
        self.tables.carts[user_id].expires_at = self.now - timedelta(seconds=1)

    def snapshot(self) -> Tables:
        return copy.deepcopy(self.tables)


def spread(units: int, buckets: int) -> list[int]:
    """Evenly: units // n each, one more for the first units % n (as sql/ spreads them)."""
    return [units // buckets + (1 if k < units % buckets else 0) for k in range(buckets)]


def new_key(user_id: uuid.UUID, function: str, body: str = "{}", value: str | None = None):
    """An Idempotency-Key for the user's request, fingerprinted as the HTTP wrapper does it
    (`body` is the validated body re-serialized); a fresh value unless one is given."""
    return idempotency.key_for(value or f"click-{random_id()}", user_id, function, body)


class FakeIdempotencyRecords:
    def __init__(self, uow: FakeUnitOfWork, key: IdempotencyKey | None):
        self._uow, self._key = uow, key
        self.claimed = False
        self._answer: dict | None = None
        self._made_cart_of: uuid.UUID | None = None

    def claim(self) -> None:
        """The lock statement's first step: a fresh row is ours to fill, an answered one is a
        replay (or a reuse with another request)."""
        if self._key is None:
            return
        rows = self._uow._working.keys
        row = rows.setdefault(
            (self._key.user_id, self._key.value),
            StoredKey(self._key.fingerprint, created_at=self._uow.now),
        )
        self._key.check_claim(row.status, row.response, row.fingerprint)
        self.claimed = True

    def remember(self, answer: dict) -> None:
        self._answer = answer

    def made_cart(self, user_id: uuid.UUID) -> None:
        self._made_cart_of = user_id

    def store(self, status: int, body: dict) -> None:
        """A refusal's answer, and nothing else of the command: a cart it made goes (it
        commits, like the SQL's store statement)."""
        self._answer_with(status, body)
        if self._made_cart_of is not None:
            del self._uow._working.carts[self._made_cart_of]

    def store_remembered(self) -> None:
        """What the write statement does besides its writes (nothing without a fresh claim)."""
        if self.claimed:
            self._answer_with(200, self._answer)

    def _answer_with(self, status: int, body: dict) -> None:
        row = self._uow._working.keys[(self._key.user_id, self._key.value)]
        row.status, row.response = status, json.loads(json.dumps(body))  # stored as JSON


class FakeCartsAndOrders:
    """Both Carts and Orders: they share the cart rows, as carts.py and orders.py do."""

    def __init__(self, uow: FakeUnitOfWork, idempotency: FakeIdempotencyRecords):
        self._uow, self._tables, self._idempotency = uow, uow._working, idempotency

    def _locked_cart(self, user_id: uuid.UUID, create: bool) -> StoredCart | None:
        """Claim the key, then the cart; like the SQL, a refusal renews nothing (the expiry and
        the rate-limit state are written by a command that succeeds)."""
        self._idempotency.claim()  # first, before the cart: a replay touches no cart
        cart = self._tables.carts.get(user_id)
        if cart is None and create:
            cart = self._tables.carts[user_id] = StoredCart(
                self._uow.next_id(), self._uow.now + self._uow.ttl
            )
            self._idempotency.made_cart(user_id)
        return cart

    def _cart(self, user_id, stored: StoredCart | None) -> Cart:
        cart = Cart(user_id, id=stored.id if stored else None, locked_at=self._uow.now)
        if stored is not None:
            cart.rate_tokens, cart.rate_counted_at = stored.rate_tokens, stored.rate_counted_at
        return cart

    def lock_cart_and_product(
        self, user_id, product_id, units_needed: int
    ) -> tuple[Cart, Product | None]:
        """Holds all of the product's buckets (the fake has no one else to share them with),
        or with `partial_holds` its first bucket only, until the run that must hold them all."""
        stored = self._locked_cart(user_id, create=True)
        cart = self._cart(user_id, stored)
        if stored.lines.get(product_id):
            cart.items[product_id] = CartItem(product_id, stored.lines[product_id])
        others = {p: q for p, q in stored.lines.items() if p != product_id}
        cart.other_lines, cart.other_units = len(others), sum(others.values())
        product = copy.deepcopy(self._tables.products.get(product_id))
        if product is not None:
            product.changes = {}
            if self._uow.partial_holds and not self._uow.lock_all_stock and units_needed:
                first = min(product.buckets)
                product.buckets = {first: product.buckets[first]}
                product.stock, product.holds_all_stock = product.buckets[first], False
            cart.ordered_units[product_id] = sum(
                line["quantity"]
                for order in self._tables.orders.values()
                if order["user_id"] == user_id
                for line in order["lines"]
                if line["product_id"] == product_id
            )
        return cart, product

    def _write_stock_and_renew(self, cart: Cart, product: Product) -> StoredCart:
        stored_product = self._tables.products[product.id]
        for bucket, units in product.changes.items():
            stored_product.buckets[bucket] += units
            stored_product.stock += units
        return self._renew(cart)

    def _renew(self, cart: Cart) -> StoredCart:
        stored = self._tables.carts[cart.user_id]
        stored.expires_at = self._uow.now + self._uow.ttl
        stored.rate_tokens, stored.rate_counted_at = cart.rate_tokens, cart.rate_counted_at
        return stored

    def save_added(self, cart: Cart, product: Product, quantity: int) -> None:
        lines = self._write_stock_and_renew(cart, product).lines
        lines[product.id] = lines.get(product.id, 0) + quantity
        self._idempotency.store_remembered()

    def save_removed(self, cart: Cart, product: Product, returned: int) -> None:
        lines = self._write_stock_and_renew(cart, product).lines
        lines[product.id] -= returned
        if lines[product.id] <= 0:
            del lines[product.id]
        self._idempotency.store_remembered()

    def lock_cart_for_checkout(self, user_id) -> tuple[Cart, dict[int, Product]]:
        stored = self._locked_cart(user_id, create=False)
        cart = self._cart(user_id, stored)
        products = {}
        for product_id, quantity in sorted((stored.lines if stored else {}).items()):
            cart.items[product_id] = CartItem(product_id, quantity)
            products[product_id] = copy.deepcopy(self._tables.products[product_id])
        return cart, products

    def save_order(self, cart: Cart, order: Order, order_id, correlation_id: str) -> None:
        lines = [
            {
                "product_id": n.product_id,
                "quantity": n.quantity,
                "unit_price_cents": n.unit_price_cents,
            }
            for n in order.lines
        ]
        self._tables.orders[order_id] = {
            "user_id": order.user_id,
            "status": order.status,
            "total_cents": order.total_cents,
            "correlation_id": correlation_id,
            "lines": lines,
        }
        stored = self._renew(cart)
        for line in order.lines:  # only the lines it ordered
            del stored.lines[line.product_id]
        event_id = self._uow.next_id()
        payload = {
            "type": "OrderPlaced",
            "order_id": str(order_id),
            "user_id": str(order.user_id),
            "lines": lines,
            "total_cents": order.total_cents,
            "created_at": self._uow.now.isoformat(),
        }
        self._tables.outbox[event_id] = OutboxRow(event_id, order_id, payload, correlation_id)
        self._idempotency.store_remembered()


class FakeOutbox:
    def __init__(self, uow: FakeUnitOfWork):
        self._uow, self._rows = uow, uow._working.outbox

    def claim_pending(self, limit: int) -> list[PendingEvent]:
        pending = [row for _, row in sorted(self._rows.items()) if row.sent_at is None]
        return [PendingEvent(r.id, r.payload, r.correlation_id) for r in pending[:limit]]

    def claim_pending_of_order(self, order_id) -> list[PendingEvent]:
        return [
            PendingEvent(r.id, r.payload, r.correlation_id)
            for r in self._rows.values()
            if r.order_id == order_id and r.sent_at is None
        ]

    def backlog(self) -> tuple[int, float]:
        pending = [row for row in self._rows.values() if row.sent_at is None]
        oldest = min((row.created_at or self._uow.now for row in pending), default=self._uow.now)
        return len(pending), (self._uow.now - oldest).total_seconds()

    def record_attempts(self, errors: dict[int, str | None]) -> None:
        for event_id, error in errors.items():
            row = self._rows[event_id]
            row.attempts += 1
            row.sent_at = self._uow.now if error is None else None
            row.last_error = error


class FakeExpiredCarts:
    def __init__(self, uow: FakeUnitOfWork):
        self._uow, self._tables = uow, uow._working

    def release_batch(self, batch_size: int) -> tuple[int, int]:
        expired = sorted((cart.expires_at, user) for user, cart in self._tables.carts.items())
        expired = [user for at, user in expired if at <= self._uow.now][:batch_size]
        held: dict[int, int] = {}
        for user in expired:
            for product_id, quantity in self._tables.carts.pop(user).lines.items():
                held[product_id] = held.get(product_id, 0) + quantity
        for product_id, units in held.items():  # spread over the buckets, as the SQL does
            product = self._tables.products[product_id]
            shares = spread(units, len(product.buckets))
            for bucket, share in zip(sorted(product.buckets), shares, strict=True):
                product.buckets[bucket] += share
            product.stock += units
        return len(expired), sum(held.values())

    def delete_old_keys(self, batch_size: int, older_than_hours: int) -> int:
        cutoff = self._uow.now - timedelta(hours=older_than_hours)
        old = sorted((row.created_at, key) for key, row in self._tables.keys.items())
        old = [key for created_at, key in old if created_at < cutoff][:batch_size]
        for key in old:
            del self._tables.keys[key]
        return len(old)


class FakePublisher:
    """Records every batch it is given; `error` makes every send fail with that reason, `raises`
    makes the call itself fail; `on_send(events)` runs first (to look at what is committed)."""

    def __init__(self, error: str | None = None, raises: Exception | None = None, on_send=None):
        self.batches: list[list[PendingEvent]] = []
        self.error, self.raises, self.on_send = error, raises, on_send

    @property
    def sent(self) -> list[PendingEvent]:
        if self.error or self.raises:
            return []
        return [event for batch in self.batches for event in batch]

    def send(self, events: list[PendingEvent]) -> dict[int, str | None]:
        if self.on_send:
            self.on_send(events)
        self.batches.append(list(events))
        if self.raises:
            raise self.raises
        return {event.id: self.error for event in events}
