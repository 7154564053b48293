"""Request bodies. Strict: "1", 1.5, null and unknown fields are refused, never coerced."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class CartItemRequest(_Strict):
    """Body of add-item and remove-item."""

    product_id: int = Field(ge=1, le=2**63 - 1)
    quantity: int = Field(default=1, ge=1, le=1000)


class CheckoutRequest(_Strict):
    """Checkout takes no fields; an empty object (or no body) is the whole request."""
