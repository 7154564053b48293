"""Request bodies and the answers of every function: the API document is generated from these.

Requests are strict: "1", 1.5, true, null and unknown fields are refused, never coerced. A whole
number written as 2.0 is the integer 2, as JSON Schema (and so docs/openapi.json) says. The answer
models describe what the use cases return; the contract tests hold every answer to them.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


def _whole_float_as_int(value: object) -> object:
    """JSON has one number type: to JSON Schema 2.0 is an integer, so it is taken as 2 (strict
    validation then refuses 2.5, "2", true and null as before)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


WHOLE = BeforeValidator(_whole_float_as_int)  # after the bounds, so they stay in the schema
# Ids up to 2^53 - 1: what every JSON client (JavaScript's numbers) holds exactly, and what a
# whole number written with a fraction (2.0) still says exactly once parsed as a float.
Id = Annotated[int, Field(ge=1, le=2**53 - 1), WHOLE]
Units = Annotated[int, Field(ge=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class CartItemRequest(_Strict):
    """Body of add-item and remove-item."""

    product_id: Id
    quantity: Annotated[int, Field(ge=1, le=1000), WHOLE] = 1


class CheckoutRequest(_Strict):
    """Checkout takes no fields; an empty object (or no body) is the whole request."""


class CartLine(_Strict):
    """The cart line after the change."""

    product_id: Id
    quantity: int = Field(ge=0, description="units in the cart now; 0 when the line is gone")


class OrderLine(_Strict):
    product_id: Id
    name: str
    quantity: int = Field(ge=1)
    unit_price_cents: Units
    line_total_cents: Units


class PlacedOrder(_Strict):
    """The order checkout placed, priced at checkout time."""

    order_id: uuid.UUID
    status: Literal["placed"]
    total_cents: Units
    created_at: datetime
    lines: list[OrderLine] = Field(min_length=1)


class ReleasedCarts(_Strict):
    """What one run of the expiry sweep gave back and deleted."""

    released_carts: Units
    released_units: Units
    deleted_idempotency_keys: Units


class RelayedEvents(_Strict):
    """What one run of the outbox relay sent; `pending` is only counted with no queue set."""

    sent: Units
    failed: Units
    pending: Units
