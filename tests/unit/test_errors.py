"""The one error table (shared/errors.py), row by row, and the answers built from it."""

import logging
import re

import pytest

from shared import errors
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
from shared.entrypoints.responses import failure_answer
from shared.errors import (
    INTERNAL,
    Busy,
    ConfigurationError,
    DatabaseUnavailable,
    IdempotencyKeyReused,
    InvalidIdempotencyKey,
    InvalidJson,
    MethodNotAllowed,
    PayloadTooLarge,
    RequestRefused,
    Unauthorized,
    ValidationFailed,
)
from tests.support import ROOT

# Domain refusals: what a command can meet once it reached the database.
REFUSALS = [
    InvalidQuantity(0),
    ProductNotFound(7),
    InsufficientStock(7, 3, 2),
    ItemNotInCart(7),
    CartEmpty(),
    DomainError("another rule"),
]
# One of each row: (the error, its status, its code, whether a key stores it).
ROWS = [
    (InvalidJson("not JSON"), 400, "invalid_json", False),
    (InvalidIdempotencyKey("bad key"), 400, "invalid_idempotency_key", False),
    (Unauthorized("no token"), 401, "unauthorized", False),
    (ProductNotFound(7), 404, "product_not_found", True),
    (ItemNotInCart(7), 404, "item_not_in_cart", True),
    (MethodNotAllowed("use POST"), 405, "method_not_allowed", False),
    (InsufficientStock(7, 3, 2), 409, "insufficient_stock", True),
    (CartEmpty(), 409, "cart_empty", True),
    (PurchaseLimitReached(7, 2, 2, 1), 409, "purchase_limit_reached", True),
    (CartLimitReached("units", 100, 99), 409, "cart_limit_reached", True),
    (RateLimited(60, 3), 429, "rate_limited", False),
    (DomainError("another rule"), 409, "rule_violated", False),
    (PayloadTooLarge("too big"), 413, "payload_too_large", False),
    (ValidationFailed("quantity: too small", field="quantity"), 422, "validation_error", False),
    (InvalidQuantity(0), 422, "validation_error", False),
    (IdempotencyKeyReused(), 422, "idempotency_key_reused", False),
    (DatabaseUnavailable("down"), 503, "database_unavailable", False),
    (Busy("locked"), 503, "busy_try_again", False),
    (ConfigurationError("DATABASE_URL"), 503, "configuration_error", False),
]


def test_the_table_has_exactly_these_rows():
    assert {type(error): (s, c, st) for error, s, c, st in ROWS} == {
        cls: (f.status, f.code, f.stored) for cls, f in errors.ERROR_TABLE.items()
    }
    assert all(f.when for f in errors.ERROR_TABLE.values())  # the docs' "when" column


@pytest.mark.parametrize(
    "error, status, code, stored", ROWS, ids=[type(row[0]).__name__ for row in ROWS]
)
def test_each_row_answers_its_status_and_code(error, status, code, stored):
    failure = errors.failure_of(error)
    assert (failure.status, failure.code, failure.stored) == (status, code, stored)
    answered, body, headers = failure_answer(error, "cid-1")
    assert (answered, body["error"]["code"], body["error"]["correlation_id"]) == (
        status,
        code,
        "cid-1",
    )
    assert body["error"]["message"] == str(error)
    # Only busy_try_again and rate_limited tell the caller when to come back: a busy database
    # in a second, a rate limit when the customer's next token is there.
    retry_after = {"busy_try_again": "1", "rate_limited": "3"}.get(code)
    assert headers == ({"Retry-After": retry_after} if retry_after else {})


def test_a_subclass_answers_as_its_nearest_listed_ancestor():
    class Discontinued(ProductNotFound):
        pass

    class TooLate(DomainError):
        pass

    assert errors.failure_of(Discontinued(7)).code == "product_not_found"
    assert errors.failure_of(TooLate("closed")).code == "rule_violated"


@pytest.mark.parametrize("error", [ValueError("x"), KeyError("k"), RequestRefused("unlisted")])
def test_anything_unlisted_is_internal(error):
    assert errors.failure_of(error) is INTERNAL
    assert (INTERNAL.status, INTERNAL.code) == (500, "internal")


def test_an_internal_error_hides_its_words_and_logs_its_trace(caplog):
    try:
        raise RuntimeError("secret detail: boom")
    except RuntimeError as error:
        status, body, headers = failure_answer(error, "cid-2")
    assert (status, headers) == (500, {})
    assert body == {
        "error": {"code": "internal", "message": "internal error", "correlation_id": "cid-2"}
    }
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "secret detail: boom" in record.exc_text


def test_details_travel_in_the_error_body():
    error = ValidationFailed("quantity: too small", field="quantity", fields=[{"field": "q"}])
    _, body, _ = failure_answer(error, "cid")
    assert (body["error"]["field"], body["error"]["fields"]) == ("quantity", [{"field": "q"}])


@pytest.mark.parametrize("refusal", REFUSALS, ids=lambda r: type(r).__name__)
def test_a_stored_answer_is_the_body_without_a_correlation_id(refusal):
    failure = errors.failure_of(refusal)
    expected = (failure.status, {"error": {"code": failure.code, "message": str(refusal)}})
    assert errors.stored_answer(refusal) == (expected if failure.stored else None)


def test_the_readme_lists_every_row_with_its_status():
    """The HTTP contract in README.md is the table's public face: every code, at its status."""
    readme = (ROOT / "README.md").read_text()
    contract = readme[readme.index("## HTTP contract") : readme.index("## Configuration")]
    documented = {
        (int(status), code)
        for status, codes in re.findall(r"^\| (\d{3}) \| ([^|]+) \|", contract, re.MULTILINE)
        for code in re.findall(r"`([a-z_]+)`", codes)
    }
    rows = {(f.status, f.code) for f in [*errors.ERROR_TABLE.values(), INTERNAL]}
    undocumented = rows - documented - {(409, "rule_violated")}  # a catch-all, never raised
    assert undocumented == set()


def test_the_readme_documents_every_setting_of_a_drop():
    configuration = (ROOT / "README.md").read_text().split("## Configuration", 1)[1]
    for setting in (
        "CART_MAX_LINES",
        "CART_MAX_UNITS",
        "RATE_LIMIT_PER_MINUTE",
        "RATE_LIMIT_BURST",
        "SWEEP_BUDGET_SECONDS",
    ):
        assert f"| `{setting}` |" in configuration, setting


@pytest.mark.parametrize("error", [row[0] for row in ROWS], ids=lambda e: type(e).__name__)
def test_the_details_a_refusal_carries_are_the_ones_the_document_declares(error):
    """The API document's body shape for a code comes from its row's `details`."""
    declared = {name for name, _, _ in errors.failure_of(error).details}
    carried = set(getattr(error, "details", None) or {}) - {"field", "fields"}
    assert carried == declared
