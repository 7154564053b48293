"""Every failure a caller can see: its status, its stable code, and whether a key keeps it.

The one error table. The HTTP wrapper answers from it, the unit of work asks it which refusals
an Idempotency-Key stores as its answer, and the docs are checked against it. Domain refusals
are defined in `shared.domain`; the failures of the machinery around them are defined here, so
every layer can raise them without importing an outer one.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.domain import (
    CartEmpty,
    CartLimitReached,
    DomainError,
    InsufficientStock,
    InvalidQuantity,
    ItemNotInCart,
    ProductNotFound,
    PurchaseLimitReached,
    RateLimited,
)


class RequestRefused(Exception):
    """A failure that is not a domain rule; `details` are extra fields of the error body."""

    def __init__(self, message: str, **details):
        super().__init__(message)
        self.details = details


class MethodNotAllowed(RequestRefused):
    pass


class PayloadTooLarge(RequestRefused):
    pass


class InvalidJson(RequestRefused):
    pass


class ValidationFailed(RequestRefused):
    """The body does not match its schema; `field` names the first problem, `fields` all."""


class InvalidIdempotencyKey(RequestRefused):
    pass


class IdempotencyKeyReused(RequestRefused):
    def __init__(self):
        super().__init__("this Idempotency-Key was already used with a different request")


class Unauthorized(RequestRefused):
    """The caller is not who they claim to be; the message is safe to show."""


class DatabaseUnavailable(RequestRefused):
    """The database cannot be reached or dropped the connection; the command did not apply."""


class Busy(RequestRefused):
    """A lock wait or a statement outlasted its timeout; the transaction was rolled back."""


class ConfigurationError(RequestRefused):
    """A setting is missing or malformed; the message names only the variable."""


@dataclass(frozen=True)
class Failure:
    status: int
    code: str
    when: str
    # A refusal the command reached the database for: an Idempotency-Key keeps it as its
    # answer, so retrying the same click cannot turn it into a purchase minutes later.
    stored: bool = False
    retry_after_seconds: int | None = None
    # Extra members of the error body, as (name, JSON type, meaning): the document's shape for
    # the details the exception carries (`details`), checked against them by the unit tests.
    details: tuple[tuple[str, str, str], ...] = ()


ERROR_TABLE: dict[type[Exception], Failure] = {
    InvalidJson: Failure(400, "invalid_json", "the body is not JSON"),
    InvalidIdempotencyKey: Failure(
        400, "invalid_idempotency_key", "`Idempotency-Key` is not 1-255 of `[A-Za-z0-9._:-]`"
    ),
    Unauthorized: Failure(
        401, "unauthorized", "missing, malformed, expired, wrong audience or wrong key"
    ),
    ProductNotFound: Failure(404, "product_not_found", "no such product", stored=True),
    ItemNotInCart: Failure(404, "item_not_in_cart", "the cart has no such line", stored=True),
    MethodNotAllowed: Failure(
        405, "method_not_allowed", "anything but POST (OPTIONS answers the CORS preflight)"
    ),
    InsufficientStock: Failure(
        409, "insufficient_stock", "fewer units left than requested", stored=True
    ),
    PurchaseLimitReached: Failure(
        409,
        "purchase_limit_reached",
        "the product's limit per customer (cart plus orders) would be passed",
        stored=True,
        details=(
            ("limit", "integer", "units of the product one customer may hold"),
            ("held", "integer", "units the customer holds now, in the cart and in orders"),
        ),
    ),
    CartLimitReached: Failure(
        409,
        "cart_limit_reached",
        "the cart would pass `CART_MAX_LINES` lines or `CART_MAX_UNITS` units",
        stored=True,
        details=(
            ("limit", "integer", "the cap that would be passed"),
            ("limit_of", "string", "`lines` or `units`"),
        ),
    ),
    CartEmpty: Failure(409, "cart_empty", "checkout of an empty cart", stored=True),
    DomainError: Failure(409, "rule_violated", "another business rule refused the command"),
    PayloadTooLarge: Failure(413, "payload_too_large", "body over `MAX_BODY_BYTES`"),
    ValidationFailed: Failure(422, "validation_error", "wrong type, range or unknown field"),
    InvalidQuantity: Failure(422, "validation_error", "wrong type, range or unknown field"),
    IdempotencyKeyReused: Failure(
        422, "idempotency_key_reused", "the key already answered another request"
    ),
    # Not stored: the same click, retried after the wait, should run.
    RateLimited: Failure(
        429,
        "rate_limited",
        "more than `RATE_LIMIT_PER_MINUTE` commands (burst `RATE_LIMIT_BURST`); see Retry-After",
        retry_after_seconds=1,
        details=(("retry_after_seconds", "integer", "the same as `Retry-After`"),),
    ),
    DatabaseUnavailable: Failure(503, "database_unavailable", "the database cannot be reached"),
    Busy: Failure(
        503,
        "busy_try_again",
        "a lock wait or statement outlasted its timeout",
        retry_after_seconds=1,
    ),
    ConfigurationError: Failure(
        503, "configuration_error", "a setting is missing, malformed or cannot be read"
    ),
}
INTERNAL = Failure(500, "internal", "anything unexpected; the stack trace is in the log")


def failure_of(error: BaseException) -> Failure:
    """The table's row for `error`, or for the nearest class it inherits from; else internal."""
    for cls in type(error).__mro__:
        if cls in ERROR_TABLE:
            return ERROR_TABLE[cls]
    return INTERNAL


def stored_answer(refusal: Exception) -> tuple[int, dict] | None:
    """(status, body) an Idempotency-Key keeps for this refusal, or None when it keeps none.

    The body has no correlation id: a replay answers with the id of the request it answers.
    """
    failure = failure_of(refusal)
    if not failure.stored:
        return None
    error = {"code": failure.code, "message": str(refusal), **getattr(refusal, "details", {})}
    return failure.status, {"error": error}


def error_body(code: str, message: str, correlation_id: str, details: dict | None = None) -> dict:
    error = {"code": code, "message": message, "correlation_id": correlation_id}
    return {"error": {**error, **(details or {})}}
