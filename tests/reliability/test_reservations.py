"""Reservations across functions: every command refreshes a cart's expiry, the read view shows
it, and a shopper meets the sweep (tests/release_expired_carts/ tests the sweep alone)."""

from collections import Counter
from datetime import timedelta

from tests.support import as_role, post, run_concurrently, sweep


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
