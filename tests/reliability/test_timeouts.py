"""Never hang: every transaction runs under lock_timeout and statement_timeout (SET LOCAL with BEGIN).

A command that outwaits either answers 503 `busy_try_again` with `Retry-After`, having written
nothing, and the next command goes through once the database is free.
"""

import time

import pytest

from tests.support import error_of, post

LOCK_TIMEOUT_MS = 300
STATEMENT_TIMEOUT_MS = 800


@pytest.fixture
def tight_timeouts(env):
    env(DB_LOCK_TIMEOUT_MS=str(LOCK_TIMEOUT_MS), DB_STATEMENT_TIMEOUT_MS=str(STATEMENT_TIMEOUT_MS))


def assert_busy(response, started: float, at_least_ms: int):
    elapsed = time.monotonic() - started
    assert response.status_code == 503, response.get_data(as_text=True)
    assert error_of(response)["code"] == "busy_try_again"
    assert response.headers["Retry-After"] == "1"
    assert at_least_ms / 1000 <= elapsed < at_least_ms / 1000 + 3, elapsed


def test_a_product_lock_held_too_long_answers_busy_and_writes_nothing(
    client, new_user, admin, tight_timeouts
):
    product = admin.create_product(stock=5)
    user, token = new_user()
    assert (
        post(client("add_item"), token, {"product_id": product, "quantity": 2}).status_code == 200
    )
    before = admin.snapshot()
    with admin.holding("select * from products where id = :p for update", p=product):
        for name, headers in [
            ("add_item", {}),
            ("remove_item", {}),
            ("add_item", {"Idempotency-Key": "busy-click"}),
        ]:
            started = time.monotonic()
            response = post(client(name), token, {"product_id": product}, **headers)
            assert_busy(response, started, LOCK_TIMEOUT_MS)
    assert admin.snapshot() == before
    assert admin.scalar("select count(*) from idempotency_keys where key = 'busy-click'") == 0
    # Free again: the same key now runs the command.
    response = post(
        client("add_item"), token, {"product_id": product}, **{"Idempotency-Key": "busy-click"}
    )
    assert response.status_code == 200 and "Idempotent-Replayed" not in response.headers
    assert (admin.stock(product), admin.in_cart(user, product)) == (2, 3)


def test_a_cart_lock_held_too_long_answers_busy_at_checkout(
    client, new_user, admin, tight_timeouts
):
    product = admin.create_product(stock=5)
    user, token = new_user()
    post(client("add_item"), token, {"product_id": product})
    before = admin.snapshot()
    with admin.holding("select * from carts where user_id = :u for update", u=user):
        started = time.monotonic()
        assert_busy(post(client("checkout"), token, {}), started, LOCK_TIMEOUT_MS)
    assert admin.snapshot() == before
    assert post(client("checkout"), token, {}).status_code == 200


def test_a_statement_running_too_long_answers_busy_and_writes_nothing(
    client, new_user, admin, tight_timeouts
):
    product = admin.create_product(stock=5, name="slow-on-add")
    admin.execute(f"""
        create or replace function test_slow() returns trigger language plpgsql as $$
        begin perform pg_sleep(5); return new; end $$;
        create trigger test_slow before insert on cart_items for each row
          when (new.product_id = {product}) execute function test_slow();
        """)
    try:
        _, token = new_user()
        before = admin.snapshot()
        started = time.monotonic()
        response = post(client("add_item"), token, {"product_id": product})
        assert_busy(response, started, STATEMENT_TIMEOUT_MS)
        assert admin.snapshot() == before
    finally:
        admin.execute("drop trigger test_slow on cart_items")
