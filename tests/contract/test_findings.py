"""What the fuzzer found, pinned as plain tests (docs/operations.md lists the findings)."""

from __future__ import annotations

import pytest

from tests.support import error_of, post


def _cart(admin, user):
    return admin.rows("select id, updated_at, expires_at from carts where user_id = :u", u=user)


@pytest.mark.parametrize(
    "name, body, status, code",
    [
        ("add_item", {"quantity": 2}, 409, "insufficient_stock"),
        ("add_item", {"product_id": 2**53 - 1}, 404, "product_not_found"),
        ("remove_item", {}, 404, "item_not_in_cart"),
    ],
)
def test_a_keyed_refusal_creates_no_cart(client, new_user, admin, name, body, status, code):
    """Finding 2: the stored refusal was committed with the cart its lock statement created."""
    product = admin.create_product(stock=1)
    user, token = new_user()
    body = {"product_id": product, **body}
    before = admin.snapshot()
    response = post(client(name), token, body, **{"Idempotency-Key": "k"})
    assert (response.status_code, error_of(response)["code"]) == (status, code)
    assert admin.snapshot() == before and _cart(admin, user) == []
    replay = post(client(name), token, body, **{"Idempotency-Key": "k"})
    assert (replay.status_code, replay.headers["Idempotent-Replayed"]) == (status, "true")
    assert error_of(replay)["code"] == code


def test_a_keyed_refusal_leaves_an_existing_cart_as_it_was(client, new_user, admin):
    """... and refreshed the expiry of a cart that existed (checkout of an empty cart too)."""
    product = admin.create_product(stock=1)
    user, token = new_user()
    assert post(client("add_item"), token, {"product_id": product}).status_code == 200
    assert post(client("remove_item"), token, {"product_id": product}).status_code == 200
    admin.execute(
        "update carts set expires_at = now() + interval '1 minute' where user_id = :u", u=user
    )
    cart = _cart(admin, user)
    for name, body in [("add_item", {"product_id": product, "quantity": 5}), ("checkout", {})]:
        response = post(client(name), token, body, **{"Idempotency-Key": f"refused-{name}"})
        assert response.status_code == 409
        assert _cart(admin, user) == cart


def test_a_whole_number_written_with_a_fraction_is_that_integer(client, new_user, admin):
    """Finding 3: JSON Schema (so the document) calls 2.0 an integer; the API refused it."""
    product = admin.create_product(stock=10)
    _, token = new_user()
    key = {"Idempotency-Key": "two"}
    first = post(
        client("add_item"), token, raw=b'{"product_id": %d, "quantity": 2.0}' % product, **key
    )
    assert (first.status_code, first.get_json()) == (200, {"product_id": product, "quantity": 2})
    # The same request as {"quantity": 2}: replayed, not applied twice.
    again = post(client("add_item"), token, {"product_id": product, "quantity": 2}, **key)
    assert again.headers["Idempotent-Replayed"] == "true" and admin.stock(product) == 8
    for raw, field in [
        (b'{"product_id": %d, "quantity": 2.5}' % product, "quantity"),
        (b'{"product_id": 9007199254740993.0}', "product_id"),  # 2^53 + 1: past the bound
        (b'{"product_id": 1e400}', "product_id"),
    ]:
        refused = post(client("add_item"), token, raw=raw)
        assert (refused.status_code, error_of(refused)["field"]) == (422, field)
