"""The limits that keep a drop fair, across functions and under real concurrent transactions:
purchase limits raced from two tabs, and the per-customer rate limit (one budget for all three
commands). The cart caps and the refusal rows of each function are in its own suite.

The session runs with RATE_LIMIT_PER_MINUTE=0; these tests turn it on with small values. Waiting
for a token is simulated by moving the stored state back in time (`carts.rate_counted_at`), so
no test sleeps longer than one token's second.
"""

import time
from collections import Counter

import pytest

from tests.support import error_of, post, queued_behind_the_cart, run_concurrently

# --- purchase limits, raced -----------------------------------------------------------------


def held(admin, user, product) -> int:
    """Units of `product` the customer holds: in their cart plus in their orders."""
    ordered = admin.scalar(
        "select coalesce(sum(oi.quantity), 0) from orders o join order_items oi"
        " on oi.order_id = o.id where o.user_id = :u and oi.product_id = :p",
        u=user,
        p=product,
    )
    return admin.in_cart(user, product) + ordered


@pytest.mark.parametrize("buckets", [1, 4])
def test_two_tabs_adding_at_once_never_pass_the_limit(apps, new_user, admin, buckets):
    product = admin.create_product(stock=50, buckets=buckets, max_per_customer=2)
    user, token = new_user()
    app = apps["add_item"]
    calls = [
        lambda n=n: post(
            app.test_client(),
            token,
            {"product_id": product},
            **({"Idempotency-Key": f"tab-{n}"} if n % 2 else {}),
        )
        for n in range(10)
    ]
    responses = run_concurrently(calls, threads=10)
    assert Counter(r.status_code for r in responses) == {200: 2, 409: 8}
    for refused in (r for r in responses if r.status_code == 409):
        error = error_of(refused)
        assert (error["code"], error["limit"], error["held"]) == ("purchase_limit_reached", 2, 2)
    assert held(admin, user, product) == 2
    assert admin.stock(product) == 48


def test_an_add_queued_behind_a_checkout_counts_what_it_ordered(client, new_user, admin):
    """The READ COMMITTED trap for limits: the add's snapshot predates the order, and the line
    it locks is gone by then. Read naively it would see 0 held and pass the limit."""
    product = admin.create_product(stock=20, max_per_customer=3)
    user, token = new_user()
    assert (
        post(client("add_item"), token, {"product_id": product, "quantity": 2}).status_code == 200
    )
    checkout, add = queued_behind_the_cart(
        client,
        admin,
        user,
        token,
        [("checkout", {}), ("add_item", {"product_id": product, "quantity": 2})],
    )
    assert checkout.status_code == 200
    assert add.status_code == 409, add.get_json()
    error = error_of(add)
    assert (error["code"], error["limit"], error["held"]) == ("purchase_limit_reached", 3, 2)
    assert held(admin, user, product) == 2


def test_a_checkout_queued_behind_an_add_orders_what_the_add_left(client, new_user, admin):
    product = admin.create_product(stock=20, max_per_customer=3)
    user, token = new_user()
    assert (
        post(client("add_item"), token, {"product_id": product, "quantity": 2}).status_code == 200
    )
    add, checkout = queued_behind_the_cart(
        client,
        admin,
        user,
        token,
        [("add_item", {"product_id": product}), ("checkout", {})],
    )
    assert add.status_code == 200 and checkout.status_code == 200
    assert checkout.get_json()["lines"][0]["quantity"] == 3
    assert (admin.in_cart(user, product), held(admin, user, product)) == (0, 3)
    refused = post(client("add_item"), token, {"product_id": product})
    assert error_of(refused)["held"] == 3


def test_adds_racing_checkouts_never_pass_the_limit(apps, new_user, admin):
    """Random interleavings of one customer's tabs: adds and checkouts at once, in rounds."""
    product = admin.create_product(stock=100, buckets=2, max_per_customer=3)
    user, token = new_user()
    statuses = Counter()
    for _ in range(6):
        calls = [
            lambda f=f, b=b: post(apps[f].test_client(), token, b)
            for f, b in [
                ("add_item", {"product_id": product}),
                ("checkout", {}),
                ("add_item", {"product_id": product, "quantity": 2}),
                ("add_item", {"product_id": product}),
            ]
        ]
        for response in run_concurrently(calls, threads=4):
            statuses[response.status_code] += 1
            assert response.status_code in (200, 409), response.get_json()
        assert held(admin, user, product) <= 3
        assert admin.stock(product) + held(admin, user, product) == 100
    assert statuses[409] > 0, statuses


# --- the rate limit ----------------------------------------------------------------------------


@pytest.fixture
def rate_limit(env):
    """`rate_limit(per_minute, burst)` turns the limit on for this test."""

    def turn_on(per_minute: int, burst: int) -> None:
        env(RATE_LIMIT_PER_MINUTE=str(per_minute), RATE_LIMIT_BURST=str(burst))

    return turn_on


def wait_seconds(admin, user, seconds: float) -> None:
    """As if `seconds` had passed since the customer's last counted command."""
    admin.execute(
        "update carts set rate_counted_at = rate_counted_at - make_interval(secs => :s)"
        " where user_id = :u",
        s=seconds,
        u=user,
    )


def assert_rate_limited(answer, most_seconds: int) -> None:
    assert answer.status == 429, answer.json
    error = error_of(answer)
    assert error["code"] == "rate_limited"
    assert answer.headers["Retry-After"] == str(error["retry_after_seconds"])
    assert 1 <= error["retry_after_seconds"] <= most_seconds


def test_one_budget_across_all_three_functions(invoke, new_user, admin, rate_limit):
    rate_limit(per_minute=6, burst=3)  # a token every 10 s: none comes back during the test
    product = admin.create_product(stock=10)
    user, token = new_user()
    assert invoke("add_item", {"product_id": product, "quantity": 2}, token).status == 200
    assert invoke("remove_item", {"product_id": product}, token).status == 200
    assert invoke("checkout", {}, token).status == 200
    before = admin.snapshot()
    for function, body in [
        ("add_item", {"product_id": product}),
        ("remove_item", {"product_id": product}),
        ("checkout", {}),
        ("add_item", {"product_id": product}),
    ]:
        answer = invoke(function, body, token, **{"Idempotency-Key": f"k-{function}-{user}"})
        assert_rate_limited(answer, most_seconds=10)
    assert admin.snapshot() == before  # not a token, not a unit, not an expiry
    assert admin.scalar("select count(*) from idempotency_keys where user_id = :u", u=user) == 0
    # The budget is the customer's: another one is not held back.
    _, other = new_user()
    assert invoke("add_item", {"product_id": product}, other).status == 200


def test_the_burst_is_honoured_and_tokens_come_back(client, new_user, admin, rate_limit):
    rate_limit(per_minute=6, burst=3)
    product = admin.create_product(stock=50)
    user, token = new_user()

    def adds_until_refused() -> int:
        for served in range(10):
            response = post(client("add_item"), token, {"product_id": product})
            if response.status_code == 429:
                return served
            assert response.status_code == 200, response.get_json()
        raise AssertionError("never rate limited")

    assert adds_until_refused() == 3  # the burst, at once
    wait_seconds(admin, user, 10)  # one token's time
    assert adds_until_refused() == 1
    wait_seconds(admin, user, 600)  # a long pause refills the burst, and no more
    assert adds_until_refused() == 3
    assert admin.in_cart(user, product) == 7


def test_a_token_really_comes_back_after_waiting(client, new_user, admin, rate_limit):
    rate_limit(per_minute=60, burst=1)  # a token a second
    product = admin.create_product(stock=10)
    user, token = new_user()
    assert post(client("add_item"), token, {"product_id": product}).status_code == 200
    refused = post(client("add_item"), token, {"product_id": product})
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
    time.sleep(1.05)
    assert post(client("add_item"), token, {"product_id": product}).status_code == 200
    assert admin.in_cart(user, product) == 2


def test_a_rate_limited_key_stays_free_for_the_retry(client, new_user, admin, rate_limit):
    """429 is not stored: the same click, sent again after the wait, runs."""
    rate_limit(per_minute=6, burst=1)
    product = admin.create_product(stock=10)
    user, token = new_user()
    assert post(client("add_item"), token, {"product_id": product}).status_code == 200
    key = {"Idempotency-Key": "after-the-wait"}
    assert post(client("add_item"), token, {"product_id": product}, **key).status_code == 429
    wait_seconds(admin, user, 10)
    retried = post(client("add_item"), token, {"product_id": product}, **key)
    assert retried.status_code == 200 and "Idempotent-Replayed" not in retried.headers
    assert retried.get_json() == {"product_id": product, "quantity": 2}


def test_what_counts_is_a_success(client, new_user, admin, rate_limit):
    """A refusal spends no token, with a key or without: it takes nothing from the shop, and
    under a key it keeps only its answer. Successes spend them."""
    rate_limit(per_minute=6, burst=2)
    product = admin.create_product(stock=10)
    _, token = new_user()
    unknown = {"product_id": 2**53 - 1}
    for _ in range(4):
        assert post(client("add_item"), token, unknown).status_code == 404
    for n in range(4):
        keyed = post(client("add_item"), token, unknown, **{"Idempotency-Key": f"gone-{n}"})
        assert keyed.status_code == 404
    for _ in range(2):
        assert post(client("add_item"), token, {"product_id": product}).status_code == 200
    assert post(client("add_item"), token, unknown).status_code == 429


def test_zero_turns_the_rate_limit_off(client, new_user, admin, rate_limit):
    rate_limit(per_minute=0, burst=1)
    product = admin.create_product(stock=20)
    user, token = new_user()
    for _ in range(12):
        assert post(client("add_item"), token, {"product_id": product}).status_code == 200
    assert admin.in_cart(user, product) == 12
