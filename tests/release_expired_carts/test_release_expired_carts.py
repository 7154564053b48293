"""The scheduled sweep that gives the stock of expired carts back.

The sweep is run the ways it runs in production: through its functions-framework HTTP target,
its Lambda handler, and (for the concurrency claims) several at once in real transactions.
Carts are arranged by the database owner, so this suite exercises the sweep alone; how the
commands refresh a reservation, and meet the sweep, is in tests/reliability/test_reservations.py.
"""

import logging
import random
import time
from collections import Counter

from shared.adapters.postgres.unit_of_work import PostgresUnitOfWork
from shared.service import release_expired_carts as sweep_use_case
from tests.support import lambda_context, load_main, random_id, run_concurrently, sweep


def test_expiry_releases_exactly_what_was_held(invoke, client, admin, caplog):
    sweep(client)  # whatever earlier tests left expired
    first, second = admin.create_product(stock=10), admin.create_product(stock=10)
    gone, kept = random_id(), random_id()
    admin.put_in_cart(gone, first, 3)
    admin.put_in_cart(gone, second, 2)
    admin.put_in_cart(kept, first, 4)
    admin.expire_cart(gone)
    caplog.set_level(logging.INFO, logger="shared.service.release_expired_carts")

    # Run as an HTTP target (functions-framework) or as Lambda runs a schedule.
    answer = invoke("release_expired_carts")
    assert answer.status == 200
    assert answer.json == {
        "released_carts": 1,
        "released_units": 5,
        "deleted_idempotency_keys": 0,
        "finished": True,
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
        "finished": True,
    }
    assert (admin.stock(first), admin.stock(second)) == (6, 10)


def test_idempotency_keys_older_than_a_day_are_deleted(client, admin):
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


def test_the_lambda_handler_runs_the_same_sweep():
    module = load_main("release_expired_carts", "release_main")
    context = lambda_context("shopping-system-test-release-expired-carts")
    assert set(module.handler({"source": "aws.events"}, context)) == {
        "released_carts",
        "released_units",
        "deleted_idempotency_keys",
        "finished",
    }


def test_a_cart_a_command_holds_is_skipped_without_waiting(client, admin):
    sweep(client)
    product = admin.create_product(stock=10)
    user = random_id()
    admin.put_in_cart(user, product, 3)
    admin.expire_cart(user)
    with admin.holding("select * from carts where user_id = :u for update", u=user):
        started = time.monotonic()
        assert sweep(client)["released_carts"] == 0
        assert time.monotonic() - started < 1
    assert sweep(client)["released_units"] == 3
    assert admin.stock(product) == 10


def test_sweepers_in_parallel_release_each_unit_once(client, admin):
    def sweepers():
        return [
            lambda: sweep_use_case.release_expired_carts(PostgresUnitOfWork(), cart_batch=3)
            for _ in range(4)
        ]

    # Also opens a pooled connection per sweeper, so that none starts late connecting.
    run_concurrently(sweepers(), threads=4)
    rng = random.Random(5)
    start = {admin.create_product(stock=200): 200 for _ in range(5)}
    held = Counter()
    for _ in range(40):
        user = random_id()
        for product in rng.sample(list(start), 3):
            quantity = rng.randint(1, 4)
            admin.put_in_cart(user, product, quantity)
            held[product] += quantity
        admin.expire_cart(user)
    for product, initial in start.items():
        assert admin.stock(product) == initial - held[product]
    results = run_concurrently(sweepers(), threads=4)
    assert sum(r["released_carts"] for r in results) == 40
    assert sum(r["released_units"] for r in results) == sum(held.values())
    assert sum(1 for r in results if r["released_carts"]) >= 2, results  # they really shared
    for product, initial in start.items():
        assert admin.stock(product) == initial
    assert sweep(client)["released_units"] == 0


def test_units_go_back_spread_over_the_products_buckets(client, admin):
    """All of a drop's returns in one bucket would make every later add fit only there."""
    sweep(client)
    product = admin.create_product(stock=40, buckets=4)  # 10 a bucket
    users = [random_id(), random_id()]
    admin.put_in_cart(users[0], product, 7)  # the owner takes from bucket 0
    admin.put_in_cart(users[1], product, 2)
    assert admin.buckets(product) == [1, 10, 10, 10]
    for user in users:
        admin.expire_cart(user)
    assert sweep(client)["released_units"] == 9
    assert admin.buckets(product) == [1 + 3, 10 + 2, 10 + 2, 10 + 2]  # 9 = 3 + 2 + 2 + 2


def expired_backlog(admin, product: int, carts: int) -> None:
    """`carts` expired carts holding one unit of `product` each, in one statement."""
    admin.execute(
        "with c as (insert into carts (user_id, expires_at)"
        "  select gen_random_uuid(), now() - interval '1 second' from generate_series(1, :n)"
        "  returning id)"
        " insert into cart_items (cart_id, product_id, quantity) select id, :p, 1 from c",
        n=carts,
        p=product,
    )


def test_a_run_stops_at_its_time_budget_and_says_whether_it_finished(client, admin, env):
    sweep(client)
    product = admin.create_product(stock=0, buckets=8)
    expired_backlog(admin, product, 450)  # batches of 200: 200, 200, 50
    env(SWEEP_BUDGET_SECONDS="0.001")  # out of time after the first batch of each kind
    runs = [sweep(client) for _ in range(3)]
    assert [(r["released_carts"], r["finished"]) for r in runs] == [
        (200, False),
        (200, False),
        (50, True),  # all done, though over its budget: nothing is left for the next run
    ]
    assert admin.stock(product) == 450
    assert sorted(admin.buckets(product)) == [56, 56, 56, 56, 56, 56, 57, 57]
