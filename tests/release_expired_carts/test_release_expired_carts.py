"""Reservations that expire, and the scheduled sweep that gives their stock back.

The sweep is run the ways it runs in production: through its functions-framework HTTP target,
its Lambda handler, and (for the concurrency claims) several at once in real transactions.
"""

import logging
import random
import time
from collections import Counter
from datetime import timedelta

from shared.adapters.postgres.unit_of_work import PostgresUnitOfWork
from shared.service import release_expired_carts as sweep_use_case
from tests.support import as_role, lambda_context, load_main, post, random_id, run_concurrently


def sweep(client) -> dict:
    response = client("release_expired_carts").post("/")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["X-Correlation-ID"]
    return response.get_json()


def expires_in(admin, user) -> timedelta:
    return admin.scalar("select expires_at - now() from carts where user_id = :u", u=user)


def test_every_command_refreshes_the_expiry(client, new_user, admin):
    product = admin.create_product(stock=10)
    user, token = new_user()
    post(client("add_item"), token, {"product_id": product, "quantity": 2})
    assert timedelta(minutes=29) < expires_in(admin, user) <= timedelta(minutes=30)
    for name, body in [
        ("add_item", {"product_id": product}),
        ("remove_item", {"product_id": product}),
        ("checkout", {}),
    ]:
        admin.expire_cart(user)
        assert post(client(name), token, body).status_code == 200
        assert timedelta(minutes=29) < expires_in(admin, user) <= timedelta(minutes=30), name


def test_cart_ttl_minutes_sets_the_reservation_time(client, new_user, admin, env):
    env(CART_TTL_MINUTES="5")
    product = admin.create_product(stock=10)
    user, token = new_user()
    post(client("add_item"), token, {"product_id": product})
    assert timedelta(minutes=4) < expires_in(admin, user) <= timedelta(minutes=5)


def test_the_read_view_shows_when_the_reservation_lapses(client, new_user, admin):
    product = admin.create_product(stock=10)
    user, token = new_user()
    post(client("add_item"), token, {"product_id": product})
    rows = as_role(admin, "authenticated", user)("select product_id, expires_at from my_cart")
    stored = admin.scalar("select expires_at from carts where user_id = :u", u=user)
    assert [tuple(r) for r in rows] == [(product, stored)]


def test_expiry_releases_exactly_what_was_held(invoke, client, new_user, admin, caplog):
    sweep(client)  # whatever earlier tests left expired
    first, second = admin.create_product(stock=10), admin.create_product(stock=10)
    (gone, gone_token), (kept, kept_token) = new_user(), new_user()
    post(client("add_item"), gone_token, {"product_id": first, "quantity": 3})
    post(client("add_item"), gone_token, {"product_id": second, "quantity": 2})
    post(client("add_item"), kept_token, {"product_id": first, "quantity": 4})
    admin.expire_cart(gone)
    caplog.set_level(logging.INFO, logger="shared.service.release_expired_carts")

    # Run as an HTTP target (functions-framework) or as Lambda runs a schedule.
    answer = invoke("release_expired_carts")
    assert answer.status == 200
    assert answer.json == {
        "released_carts": 1,
        "released_units": 5,
        "deleted_idempotency_keys": 0,
    }
    assert (admin.stock(first), admin.stock(second)) == (6, 10)
    assert admin.scalar("select count(*) from carts where user_id = :u", u=gone) == 0
    assert admin.in_cart(kept, first) == 4
    assert "released 5 units from 1 expired carts" in caplog.text
    # Idempotent: nothing more to give back.
    assert invoke("release_expired_carts").json == {
        "released_carts": 0,
        "released_units": 0,
        "deleted_idempotency_keys": 0,
    }
    assert (admin.stock(first), admin.stock(second)) == (6, 10)
    # The shopper whose cart lapsed starts afresh.
    response = post(client("add_item"), gone_token, {"product_id": first})
    assert response.get_json() == {"product_id": first, "quantity": 1}


def test_idempotency_keys_older_than_a_day_are_deleted(client, new_user, admin):
    sweep(client)
    user = random_id()
    for key, age in [("old", "25 hours"), ("recent", "23 hours")]:
        admin.execute(
            "insert into idempotency_keys (user_id, key, fingerprint, status, response, created_at)"
            " values (:u, :k, 'f', 200, '{}', now() - cast(:age as interval))",
            u=user,
            k=key,
            age=age,
        )
    assert sweep(client)["deleted_idempotency_keys"] == 1
    assert [
        k for (k,) in admin.rows("select key from idempotency_keys where user_id = :u", u=user)
    ] == ["recent"]


def test_the_lambda_handler_runs_the_same_sweep(new_user, admin):
    module = load_main("release_expired_carts", "release_main")
    context = lambda_context("shopping-system-test-release-expired-carts")
    assert set(module.handler({"source": "aws.events"}, context)) == {
        "released_carts",
        "released_units",
        "deleted_idempotency_keys",
    }


def test_a_cart_a_command_holds_is_skipped_without_waiting(client, new_user, admin):
    sweep(client)
    product = admin.create_product(stock=10)
    user, token = new_user()
    post(client("add_item"), token, {"product_id": product, "quantity": 3})
    admin.expire_cart(user)
    with admin.holding("select * from carts where user_id = :u for update", u=user):
        started = time.monotonic()
        assert sweep(client)["released_carts"] == 0
        assert time.monotonic() - started < 1
    assert sweep(client)["released_units"] == 3
    assert admin.stock(product) == 10


def test_a_shopper_adding_at_the_instant_of_the_sweep_ends_consistent(apps, new_user, admin):
    """Either the sweep released the cart and the add started a fresh one, or the add won."""
    outcomes = Counter()
    sweeper = apps["release_expired_carts"]
    for _ in range(12):
        product = admin.create_product(stock=10)
        user, token = new_user()
        assert (
            post(
                apps["add_item"].test_client(), token, {"product_id": product, "quantity": 2}
            ).status_code
            == 200
        )
        admin.expire_cart(user)
        add, swept = run_concurrently(
            [
                lambda token=token, product=product: post(
                    apps["add_item"].test_client(), token, {"product_id": product}
                ),
                lambda: sweeper.test_client().post("/"),
            ],
            threads=2,
        )
        assert (add.status_code, swept.status_code) == (200, 200)
        in_cart = admin.in_cart(user, product)
        assert add.get_json() == {"product_id": product, "quantity": in_cart}
        if in_cart == 1:
            outcomes["released, then a fresh cart"] += 1
        else:
            assert in_cart == 3, in_cart
            outcomes["the add won, nothing released"] += 1
        assert admin.stock(product) + in_cart == 10
        assert expires_in(admin, user) > timedelta(minutes=29)
    print(f"sweep vs add at the same instant: {dict(outcomes)}")


def test_sweepers_in_parallel_release_each_unit_once(client, new_user, admin):
    sweep(client)
    rng = random.Random(5)
    start = {admin.create_product(stock=200): 200 for _ in range(5)}
    held = Counter()
    for _ in range(40):
        user, token = new_user()
        for product in rng.sample(list(start), 3):
            quantity = rng.randint(1, 4)
            assert (
                post(
                    client("add_item"), token, {"product_id": product, "quantity": quantity}
                ).status_code
                == 200
            )
            held[product] += quantity
        admin.expire_cart(user)
    results = run_concurrently(
        [
            lambda: sweep_use_case.release_expired_carts(PostgresUnitOfWork(), batch_size=3)
            for _ in range(4)
        ],
        threads=4,
    )
    assert sum(r["released_carts"] for r in results) == 40
    assert sum(r["released_units"] for r in results) == sum(held.values())
    assert sum(1 for r in results if r["released_carts"]) >= 2, results  # they really shared
    for product, initial in start.items():
        assert admin.stock(product) == initial
    assert sweep(client)["released_units"] == 0
