"""The HTTP wrapper's own rows of the error table, through add_item (any command would do), on
both entry points: functions-framework and the Lambda handler.

Each case checks the status, the stable code, the correlation id in the body, and that the
database is exactly as it was: a refused command writes nothing, not even a cart row. The
function-specific rows (product_not_found, item_not_in_cart, insufficient_stock, cart_empty)
live with their functions.
"""

import json
import os

import pytest

from devstack import devkeys
from tests.support import error_of

# Each test runs straight to PostgreSQL and again through a transaction-mode pooler (pgbouncer).
pytestmark = pytest.mark.usefixtures("connection_mode")


@pytest.fixture
def product(admin):
    return admin.create_product(stock=5, price_cents=1234)


def assert_refused(answer, status, code):
    assert answer.status == status, answer
    error = error_of(answer)
    assert error["code"] == code
    return error


@pytest.mark.parametrize(
    "raw",
    [b"{", b"not json", b'{"product_id": 1,}', b"\xff\xfe", b'{"product_id": 1} trailing'],
)
def test_invalid_json(invoke, new_user, admin, product, raw):
    _, token = new_user()
    before = admin.snapshot()
    assert_refused(invoke("add_item", token=token, raw=raw), 400, "invalid_json")
    assert admin.snapshot() == before


@pytest.mark.parametrize(
    "body, field",
    [
        ({"product_id": "1", "quantity": 1}, "product_id"),
        ({"product_id": 1.5}, "product_id"),
        ({"product_id": None}, "product_id"),
        ({"product_id": 0}, "product_id"),
        ({"quantity": 1}, "product_id"),
        ({"product_id": 1, "quantity": "2"}, "quantity"),
        ({"product_id": 1, "quantity": 2.5}, "quantity"),  # 2.0 is 2 (tests/contract/)
        ({"product_id": 2**53}, "product_id"),  # past what every JSON client holds exactly
        ({"product_id": 1, "quantity": None}, "quantity"),
        ({"product_id": 1, "quantity": 0}, "quantity"),
        ({"product_id": 1, "quantity": -3}, "quantity"),
        ({"product_id": 1, "quantity": 1001}, "quantity"),
        ({"product_id": 1, "quantity": True}, "quantity"),
        ({"product_id": 1, "coupon": "FREE"}, "coupon"),
        ([1, 2], "body"),
    ],
)
def test_validation_error_names_the_field(invoke, new_user, admin, body, field):
    _, token = new_user()
    before = admin.snapshot()
    error = assert_refused(invoke("add_item", body, token), 422, "validation_error")
    assert error["field"] == field
    assert admin.snapshot() == before


def test_unauthorized_cases(invoke, new_user, admin, product, signing_key):
    _, good = new_user()
    expired = "Bearer " + devkeys.mint_token(
        signing_key, "0" * 8 + "-0000-4000-8000-" + "0" * 12, ttl_seconds=-120
    )
    wrong_audience = "Bearer " + devkeys.mint_token(
        signing_key, "11111111-1111-4111-8111-111111111111", aud="anon"
    )
    before = admin.snapshot()
    for token in [
        None,
        "Bearer",
        "Bearer abc.def.ghi",
        expired,
        wrong_audience,
        good.replace("Bearer ", "Basic "),
    ]:
        answer = invoke("add_item", {"product_id": product}, token)
        error = assert_refused(answer, 401, "unauthorized")
        if token == expired:
            assert "expired" in error["message"]
    assert admin.snapshot() == before


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_method_not_allowed(invoke, new_user, method):
    _, token = new_user()
    answer = invoke("add_item", token=token, method=method)
    assert_refused(answer, 405, "method_not_allowed")
    assert "POST" in answer.headers["Allow"]


def test_payload_too_large(invoke, new_user, admin, product):
    _, token = new_user()
    before = admin.snapshot()
    body = json.dumps({"product_id": product, "quantity": 1, "pad": "x" * 20_000}).encode()
    assert_refused(invoke("add_item", token=token, raw=body), 413, "payload_too_large")
    assert admin.snapshot() == before


@pytest.mark.parametrize(
    "key", ["", " ", "a" * 256, "has space", "slash/key", "ключ", "semi;colon", "tab\tkey"]
)
def test_a_malformed_key_is_refused(invoke, new_user, admin, product, key):
    _, token = new_user()
    before = admin.snapshot()
    answer = invoke("add_item", {"product_id": product}, token, **{"Idempotency-Key": key})
    assert_refused(answer, 400, "invalid_idempotency_key")
    assert admin.snapshot() == before


def test_database_unavailable(invoke, new_user, admin, product, tmp_path, env):
    _, token = new_user()
    reachable = os.environ["DATABASE_URL"]
    env(DATABASE_URL=f"postgresql://postgres@/nowhere?host={tmp_path}")
    for name, body in [("add_item", {"product_id": product}), ("checkout", {})]:
        assert_refused(invoke(name, body, token), 503, "database_unavailable")
    env(DATABASE_URL=reachable)
    assert invoke("add_item", {"product_id": product}, token).status == 200


def test_a_url_for_another_driver_is_a_configuration_error(invoke, new_user, env):
    """The data layer speaks pg8000's own API; any other driver is refused, clearly."""
    _, token = new_user()
    env(DATABASE_URL="postgresql+psycopg://postgres@/db?host=/tmp")
    error = assert_refused(invoke("add_item", {"product_id": 1}, token), 503, "configuration_error")
    assert "pg8000" in error["message"]


def test_internal_error_hides_the_details(invoke, new_user, admin, caplog):
    """A database error nobody planned for: 500 `internal`, the stack trace only in the log."""
    product = admin.create_product(stock=5, name="explodes-on-add")
    admin.execute(f"""
        create or replace function test_explode() returns trigger language plpgsql as $$
        begin raise exception 'secret detail: boom'; end $$;
        create trigger test_explode before insert on cart_items for each row
          when (new.product_id = {product}) execute function test_explode();
        """)
    try:
        _, token = new_user()
        before = admin.snapshot()
        answer = invoke("add_item", {"product_id": product}, token)
        assert_refused(answer, 500, "internal")
        assert "secret detail" not in json.dumps(answer.json)
        assert admin.snapshot() == before
        assert any("secret detail: boom" in (r.exc_text or "") for r in caplog.records)
    finally:
        admin.execute("drop trigger test_explode on cart_items")
