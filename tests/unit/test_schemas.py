"""Request bodies: strict schemas, and how a body that does not fit them is named."""

import pytest

from shared.entrypoints.requests import validate
from shared.entrypoints.schemas import CartItemRequest, CheckoutRequest
from shared.errors import InvalidJson, ValidationFailed


def test_quantity_defaults_to_one():
    body = validate(CartItemRequest, b'{"product_id": 7}')
    assert (body.product_id, body.quantity) == (7, 1)


@pytest.mark.parametrize(
    "raw",
    [b'{"product_id": 1, "quantity": 1000}', b'{"product_id": 9007199254740991}'],
)
def test_the_largest_accepted_values(raw):
    assert validate(CartItemRequest, raw)


@pytest.mark.parametrize(
    "raw, field",
    [
        (b'{"product_id": "1", "quantity": 1}', "product_id"),
        (b'{"product_id": 1.5}', "product_id"),
        (b'{"product_id": 9007199254740992}', "product_id"),  # past 2^53 - 1
        (b'{"product_id": null}', "product_id"),
        (b'{"product_id": 0}', "product_id"),
        (b'{"product_id": 9223372036854775808}', "product_id"),
        (b'{"quantity": 1}', "product_id"),
        (b'{"product_id": 1, "quantity": "2"}', "quantity"),
        (b'{"product_id": 1, "quantity": 1.5}', "quantity"),
        (b'{"product_id": 1, "quantity": null}', "quantity"),
        (b'{"product_id": 1, "quantity": 0}', "quantity"),
        (b'{"product_id": 1, "quantity": -3}', "quantity"),
        (b'{"product_id": 1, "quantity": 1001}', "quantity"),
        (b'{"product_id": 1, "quantity": true}', "quantity"),
        (b'{"product_id": 1, "coupon": "FREE"}', "coupon"),
        (b"[1, 2]", "body"),
        (b'"a string"', "body"),
    ],
)
def test_nothing_is_coerced_and_the_first_problem_is_named(raw, field):
    with pytest.raises(ValidationFailed) as refused:
        validate(CartItemRequest, raw)
    details = refused.value.details
    assert details["field"] == field and details["fields"][0]["field"] == field
    assert str(refused.value).startswith(f"{field}: ")


def test_every_problem_is_listed():
    with pytest.raises(ValidationFailed) as refused:
        validate(CartItemRequest, b'{"product_id": "1", "quantity": 0, "coupon": "x"}')
    fields = [problem["field"] for problem in refused.value.details["fields"]]
    assert sorted(fields) == ["coupon", "product_id", "quantity"]


@pytest.mark.parametrize("raw", [b"", b"  ", b"{}"])
def test_checkout_takes_an_empty_object_or_no_body(raw):
    assert validate(CheckoutRequest, raw) == CheckoutRequest()


def test_checkout_takes_no_fields():
    with pytest.raises(ValidationFailed) as refused:
        validate(CheckoutRequest, b'{"express": true}')
    assert refused.value.details["field"] == "express"


@pytest.mark.parametrize(
    "raw", [b"{", b"not json", b'{"product_id": 1,}', b"\xff\xfe", b'{"product_id": 1} trailing']
)
def test_a_body_that_is_not_json(raw):
    with pytest.raises(InvalidJson):
        validate(CartItemRequest, raw)
