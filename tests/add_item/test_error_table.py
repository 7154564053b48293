"""Every row of the error table, through the function's HTTP entry point.

Each case checks the status, the stable code, the correlation id in the body, and that the
database is exactly as it was: a refused command writes nothing, not even a cart row.
"""

import json

import pytest

from tests.conftest import reset_caches
from tests.helpers import error_of, post

# Each test runs straight to PostgreSQL and again through a transaction-mode pooler (pgbouncer).
pytestmark = pytest.mark.usefixtures("connection_mode")


@pytest.fixture
def product(admin):
    return admin.create_product(stock=5, price_cents=1234)


def assert_refused(admin, response, status, code):
    assert response.status_code == status, response.get_data(as_text=True)
    error = error_of(response)
    assert error["code"] == code
    return error


@pytest.mark.parametrize(
    "raw",
    [b"{", b"not json", b'{"product_id": 1,}', b"\xff\xfe", b'{"product_id": 1} trailing'],
)
def test_invalid_json(client, new_user, admin, product, raw):
    _, token = new_user()
    before = admin.snapshot()
    response = post(client("add_item"), token, raw=raw)
    assert_refused(admin, response, 400, "invalid_json")
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
        ({"product_id": 2**53}, "product_id"),
        ({"product_id": 1, "quantity": None}, "quantity"),
        ({"product_id": 1, "quantity": 0}, "quantity"),
        ({"product_id": 1, "quantity": -3}, "quantity"),
        ({"product_id": 1, "quantity": 1001}, "quantity"),
        ({"product_id": 1, "quantity": True}, "quantity"),
        ({"product_id": 1, "coupon": "FREE"}, "coupon"),
        ([1, 2], "body"),
    ],
)
def test_validation_error_names_the_field(client, new_user, admin, body, field):
    _, token = new_user()
    before = admin.snapshot()
    response = post(client("add_item"), token, body)
    error = assert_refused(admin, response, 422, "validation_error")
    assert error["field"] == field
    assert admin.snapshot() == before


def test_unauthorized_cases(client, new_user, admin, product, signing_key):
    from devstack import devkeys

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
        response = post(client("add_item"), token, {"product_id": product})
        error = assert_refused(admin, response, 401, "unauthorized")
        if token == expired:
            assert "expired" in error["message"]
    assert admin.snapshot() == before


def test_product_not_found(client, new_user, admin):
    _, token = new_user()
    before = admin.snapshot()
    response = post(client("add_item"), token, {"product_id": 2**53 - 1})
    assert_refused(admin, response, 404, "product_not_found")
    response = post(client("remove_item"), token, {"product_id": 2**53 - 1})
    assert_refused(admin, response, 404, "product_not_found")
    assert admin.snapshot() == before


def test_item_not_in_cart(client, new_user, admin, product):
    _, token = new_user()
    before = admin.snapshot()
    response = post(client("remove_item"), token, {"product_id": product})
    assert_refused(admin, response, 404, "item_not_in_cart")
    assert admin.snapshot() == before


def test_insufficient_stock_leaves_no_trace(client, new_user, admin, product):
    user, token = new_user()
    before = admin.snapshot()
    response = post(client("add_item"), token, {"product_id": product, "quantity": 6})
    error = assert_refused(admin, response, 409, "insufficient_stock")
    assert "5 in stock" in error["message"]
    assert admin.snapshot() == before
    assert admin.scalar("select count(*) from carts where user_id = :u", u=user) == 0


def test_cart_empty(client, new_user, admin):
    user, token = new_user()
    before = admin.snapshot()
    assert_refused(admin, post(client("checkout"), token, {}), 409, "cart_empty")
    assert admin.snapshot() == before


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_method_not_allowed(client, new_user, admin, method):
    _, token = new_user()
    response = client("add_item").open("/", method=method, headers={"Authorization": token})
    assert_refused(admin, response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]


def test_payload_too_large(client, new_user, admin, product):
    _, token = new_user()
    before = admin.snapshot()
    body = json.dumps({"product_id": product, "quantity": 1, "pad": "x" * 20_000}).encode()
    assert_refused(admin, post(client("add_item"), token, raw=body), 413, "payload_too_large")
    assert admin.snapshot() == before


def test_database_unavailable(client, new_user, admin, product, tmp_path, monkeypatch):
    _, token = new_user()
    monkeypatch.setenv("DATABASE_URL", f"postgresql://postgres@/nowhere?host={tmp_path}")
    reset_caches()
    try:
        for name, body in [("add_item", {"product_id": product}), ("checkout", {})]:
            response = post(client(name), token, body)
            assert_refused(admin, response, 503, "database_unavailable")
    finally:
        monkeypatch.undo()
        reset_caches()
    assert post(client("add_item"), token, {"product_id": product}).status_code == 200


def test_a_url_for_another_driver_is_a_configuration_error(client, new_user, admin, monkeypatch):
    """The data layer speaks pg8000's own API; any other driver is refused, clearly."""
    _, token = new_user()
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://postgres@/db?host=/tmp")
    reset_caches()
    try:
        response = post(client("add_item"), token, {"product_id": 1})
        error = assert_refused(admin, response, 503, "configuration_error")
        assert "pg8000" in error["message"]
    finally:
        monkeypatch.undo()
        reset_caches()


def test_internal_error_hides_the_details(client, new_user, admin, caplog):
    """A database error nobody planned for: 500 `internal`, the stack trace only in the log."""
    product = admin.create_product(stock=5, name="explodes-on-add")
    admin.execute(f"""
        create or replace function test_explode() returns trigger language plpgsql as $$
        begin raise exception 'secret detail: boom'; end $$;
        create trigger test_explode before insert on cart_items for each row
          when (new.product_id = {product}) execute function test_explode();
        """)
    _, token = new_user()
    before = admin.snapshot()
    response = post(client("add_item"), token, {"product_id": product})
    assert_refused(admin, response, 500, "internal")
    assert "secret detail" not in response.get_data(as_text=True)
    assert admin.snapshot() == before
    assert any("secret detail: boom" in (r.exc_text or "") for r in caplog.records)
    admin.execute("drop trigger test_explode on cart_items")
