"""Idempotency keys without a database: the header, the fingerprint, what a claimed row means."""

import pytest

from shared.entrypoints.schemas import CartItemRequest, CheckoutRequest
from shared.errors import IdempotencyKeyReused, InvalidIdempotencyKey
from shared.service import idempotency
from shared.service.idempotency import IdempotencyKey, Replayed, StoredResponse
from tests.support import random_id


def canonical(schema, raw: str) -> str:
    """The body as the HTTP wrapper fingerprints it: validated, then re-serialized."""
    return schema.model_validate_json(raw).model_dump_json()


@pytest.mark.parametrize(
    "header", ["a", "a" * 255, "AZaz09._:-", "2c1e5b1e-0000-4000-8000-000000000000"]
)
def test_well_formed_keys_are_taken_as_they_are(header):
    assert idempotency.parse(header) == header


@pytest.mark.parametrize(
    "header", ["", " ", "a" * 256, "has space", "slash/key", "ключ", "semi;colon", "tab\tkey", " a"]
)
def test_a_malformed_key_is_refused_never_trimmed(header):
    with pytest.raises(InvalidIdempotencyKey, match="Idempotency-Key"):
        idempotency.parse(header)


def test_no_header_means_no_key():
    assert idempotency.parse(None) is None
    assert idempotency.key_for(None, random_id(), "add_item", "{}") is None


def test_the_same_request_in_other_words_has_the_same_fingerprint():
    user = random_id()
    spelled = [
        '{"product_id": 1}',
        '{"quantity": 1, "product_id": 1}',
        '{ "product_id" : 1 , "quantity" : 1 }',
    ]
    prints = {
        idempotency.fingerprint(user, "add_item", canonical(CartItemRequest, raw))
        for raw in spelled
    }
    assert len(prints) == 1 and len(next(iter(prints))) == 64
    no_body = canonical(CheckoutRequest, "{}")
    assert idempotency.fingerprint(user, "checkout", no_body) == idempotency.fingerprint(
        user, "checkout", canonical(CheckoutRequest, " {} ")
    )


def test_who_what_and_which_body_each_change_the_fingerprint():
    user, body = random_id(), canonical(CartItemRequest, '{"product_id": 1}')
    base = idempotency.fingerprint(user, "add_item", body)
    assert base != idempotency.fingerprint(random_id(), "add_item", body)
    assert base != idempotency.fingerprint(user, "remove_item", body)
    assert base != idempotency.fingerprint(
        user, "add_item", canonical(CartItemRequest, '{"product_id": 1, "quantity": 2}')
    )
    # The parts are separated, so moving characters between them is another request.
    assert idempotency.fingerprint(user, "ab", "c") != idempotency.fingerprint(user, "a", "bc")


def test_a_key_carries_its_user_value_and_fingerprint():
    user = random_id()
    key = idempotency.key_for("click-1", user, "checkout", "{}")
    assert key == IdempotencyKey(user, "click-1", idempotency.fingerprint(user, "checkout", "{}"))


def test_a_fresh_row_is_ours_to_fill():
    key = IdempotencyKey(random_id(), "k", "f" * 64)
    assert key.check_claim(None, None, None) is None


def test_an_answered_row_is_replayed_with_the_same_request_only():
    key = IdempotencyKey(random_id(), "k", "f" * 64)
    with pytest.raises(Replayed) as replayed:
        key.check_claim(409, {"error": {"code": "cart_empty"}}, "f" * 64)
    assert replayed.value.response == StoredResponse(409, {"error": {"code": "cart_empty"}})
    with pytest.raises(IdempotencyKeyReused):
        key.check_claim(200, {"product_id": 1, "quantity": 1}, "e" * 64)
