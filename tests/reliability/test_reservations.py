"""Reservations across functions: every command refreshes a cart's expiry, the read view shows
it, and a shopper meets the sweep (tests/release_expired_carts/ tests the sweep alone)."""

from collections import Counter
from datetime import timedelta

import pytest

from tests.support import as_role, error_of, post, run_concurrently, sweep


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


def test_a_shopper_whose_cart_lapsed_starts_afresh(client, new_user, admin):
    sweep(client)
    product = admin.create_product(stock=10)
    user, token = new_user()
    post(client("add_item"), token, {"product_id": product, "quantity": 3})
    admin.expire_cart(user)
    assert sweep(client)["released_units"] == 3
    response = post(client("add_item"), token, {"product_id": product})
    assert response.get_json() == {"product_id": product, "quantity": 1}


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


# A refused command renews nothing: each 4xx a command can meet once it reached its function,
# with and without an Idempotency-Key. code -> (function, body, settings, expected status)
REFUSALS = {
    "product_not_found": ("add_item", {"product_id": 2**53 - 1}, {}, 404),
    "remove_unknown_product_not_found": ("remove_item", {"product_id": 2**53 - 1}, {}, 404),
    "item_not_in_cart": ("remove_item", {"product_id": "other"}, {}, 404),
    "insufficient_stock": ("add_item", {"product_id": "scarce", "quantity": 2}, {}, 409),
    "purchase_limit_reached": ("add_item", {"product_id": "limited", "quantity": 2}, {}, 409),
    "cart_limit_reached": (
        "add_item",
        {"product_id": "other", "quantity": 2},
        {"CART_MAX_UNITS": "3"},
        409,
    ),
    "validation_error": ("add_item", {"product_id": "held", "quantity": 0}, {}, 422),
    "rate_limited": (
        "add_item",
        {"product_id": "held"},
        {"RATE_LIMIT_PER_MINUTE": "6", "RATE_LIMIT_BURST": "1"},
        429,
    ),
}


def reservation(admin, user) -> tuple:
    return tuple(
        admin.rows("select expires_at, updated_at from carts where user_id = :u", u=user)[0]
    )


@pytest.mark.parametrize("code", list(REFUSALS))
def test_a_refused_command_renews_nothing(client, new_user, admin, env, code):
    """Sent without a key (rolled back), then with one (committed: the answer is stored)."""
    function, body, settings, status = REFUSALS[code]
    products = {
        "held": admin.create_product(stock=10),
        "other": admin.create_product(stock=10),
        "scarce": admin.create_product(stock=1),
        "limited": admin.create_product(stock=10, max_per_customer=1),
    }
    user, token = new_user()
    admin.put_in_cart(user, products["held"], 2)
    admin.execute(
        "update carts set expires_at = now() + interval '5 minutes',"
        " updated_at = now() - interval '25 minutes',"
        " rate_tokens = 0, rate_counted_at = now() where user_id = :u",
        u=user,
    )
    env(**settings)
    before = reservation(admin, user)
    body = {k: products.get(v, v) if k == "product_id" else v for k, v in body.items()}
    for headers in ({}, {"Idempotency-Key": f"refused-{code}"}):
        response = post(client(function), token, body, **headers)
        assert response.status_code == status, response.get_json()
        assert error_of(response)["code"] == code.replace("remove_unknown_", "")
        assert reservation(admin, user) == before, headers
    assert admin.in_cart(user, products["held"]) == 2


@pytest.mark.parametrize("keyed", [False, True], ids=["unkeyed", "keyed"])
def test_an_empty_checkout_renews_nothing(invoke, new_user, admin, keyed):
    product = admin.create_product(stock=10)
    user, token = new_user()
    admin.put_in_cart(user, product, 1)
    admin.execute(
        "delete from cart_items where cart_id = (select id from carts where user_id = :u)", u=user
    )
    admin.execute(
        "update carts set expires_at = now() + interval '5 minutes' where user_id = :u", u=user
    )
    before = reservation(admin, user)
    headers = {"Idempotency-Key": "empty-checkout"} if keyed else {}
    answer = invoke("checkout", {}, token, **headers)
    assert (answer.status, error_of(answer)["code"]) == (409, "cart_empty")
    assert reservation(admin, user) == before


def test_a_reused_key_renews_nothing(invoke, new_user, admin):
    product = admin.create_product(stock=10)
    user, token = new_user()
    key = {"Idempotency-Key": "used-once"}
    assert invoke("add_item", {"product_id": product}, token, **key).status == 200
    admin.execute(
        "update carts set expires_at = now() + interval '5 minutes' where user_id = :u", u=user
    )
    before = reservation(admin, user)
    answer = invoke("add_item", {"product_id": product, "quantity": 2}, token, **key)
    assert (answer.status, error_of(answer)["code"]) == (422, "idempotency_key_reused")
    replay = invoke("add_item", {"product_id": product}, token, **key)
    assert replay.headers["Idempotent-Replayed"] == "true"  # a replay renews nothing either
    assert reservation(admin, user) == before
