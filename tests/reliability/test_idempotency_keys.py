"""Idempotency-Key on all three commands, through their HTTP entry points on the real database."""

import threading
from collections import Counter

import pytest

from tests.support import error_of, post, random_id, run_concurrently, wait_for_lock_waiters

REPLAYED = "Idempotent-Replayed"


def keyed(client, token, body, key, **headers):
    return post(client, token, body, **{"Idempotency-Key": key, **headers})


def new_key() -> str:
    return f"click-{random_id()}"


def orders_of(admin, user) -> int:
    return admin.scalar("select count(*) from orders where user_id = :u", u=user)


def test_add_retried_with_the_same_key_applies_once(client, new_user, admin):
    product = admin.create_product(stock=10)
    user, token = new_user()
    key = new_key()
    first = keyed(client("add_item"), token, {"product_id": product, "quantity": 3}, key)
    again = keyed(client("add_item"), token, {"product_id": product, "quantity": 3}, key)
    assert first.status_code == again.status_code == 200
    assert REPLAYED not in first.headers
    assert again.headers[REPLAYED] == "true"
    assert again.get_data() == first.get_data()  # byte for byte
    assert (admin.stock(product), admin.in_cart(user, product)) == (7, 3)
    stored = admin.rows(
        "select status, response::text, length(fingerprint) from idempotency_keys"
        " where user_id = :u and key = :k",
        u=user,
        k=key,
    )
    assert [tuple(r) for r in stored] == [(200, first.get_data(as_text=True), 64)]


def test_remove_and_checkout_replay_their_first_answer(client, new_user, admin):
    product = admin.create_product(stock=10, price_cents=500)
    user, token = new_user()
    post(client("add_item"), token, {"product_id": product, "quantity": 4})
    key = new_key()
    removed = [keyed(client("remove_item"), token, {"product_id": product}, key) for _ in range(2)]
    assert [r.get_json() for r in removed] == [{"product_id": product, "quantity": 3}] * 2
    assert admin.in_cart(user, product) == 3

    key = new_key()
    placed = [keyed(client("checkout"), token, None, key) for _ in range(3)]
    assert [r.status_code for r in placed] == [200, 200, 200]
    assert [r.headers.get(REPLAYED) for r in placed] == [None, "true", "true"]
    assert len({r.get_data() for r in placed}) == 1
    order = placed[0].get_json()
    assert orders_of(admin, user) == 1
    stored = admin.rows("select id, created_at from orders where user_id = :u", u=user)[0]
    assert (str(stored[0]), stored[1].isoformat()) == (order["order_id"], order["created_at"])
    assert admin.scalar(
        "select sum(quantity) from order_items where order_id = :o", o=order["order_id"]
    ) == (3)


def test_the_same_key_with_another_request_is_refused(client, new_user, admin):
    product = admin.create_product(stock=10)
    other = admin.create_product(stock=10)
    _, token = new_user()
    key = new_key()
    assert keyed(client("add_item"), token, {"product_id": product}, key).status_code == 200
    before = admin.snapshot()
    for name, body in [
        ("add_item", {"product_id": product, "quantity": 2}),
        ("add_item", {"product_id": other}),
        ("remove_item", {"product_id": product}),  # the same body on another function
        ("checkout", {}),
    ]:
        response = keyed(client(name), token, body, key)
        assert response.status_code == 422, name
        assert error_of(response)["code"] == "idempotency_key_reused"
    assert admin.snapshot() == before
    # The default quantity is the same request as the explicit one.
    same = keyed(client("add_item"), token, {"product_id": product, "quantity": 1}, key)
    assert same.headers[REPLAYED] == "true"


def test_keys_are_per_user(client, new_user, admin):
    product = admin.create_product(stock=10)
    (alice, alice_token), (bob, bob_token) = new_user(), new_user()
    key = "shared-looking-key"
    for token in (alice_token, bob_token):
        response = keyed(client("add_item"), token, {"product_id": product}, key)
        assert response.status_code == 200 and REPLAYED not in response.headers
    assert (admin.in_cart(alice, product), admin.in_cart(bob, product)) == (1, 1)


def test_a_refusal_is_a_completed_answer(client, new_user, admin):
    """409 insufficient_stock is stored: the same click stays refused even once stock is back."""
    product = admin.create_product(stock=2)
    user, token = new_user()
    key = new_key()
    first = keyed(client("add_item"), token, {"product_id": product, "quantity": 3}, key)
    assert (first.status_code, error_of(first)["code"]) == (409, "insufficient_stock")
    admin.execute("update products set stock = 10 where id = :p", p=product)
    again = keyed(
        client("add_item"),
        token,
        {"product_id": product, "quantity": 3},
        key,
        **{"X-Correlation-ID": "the-retry"},
    )
    assert (again.status_code, again.headers[REPLAYED]) == (409, "true")
    error = error_of(again)  # the body carries the retry's own correlation id
    assert (error["code"], error["correlation_id"]) == ("insufficient_stock", "the-retry")
    assert error["message"] == error_of(first)["message"]
    assert admin.stock(product) == 10 and admin.in_cart(user, product) == 0
    # A new click is a new request.
    fresh = keyed(client("add_item"), token, {"product_id": product, "quantity": 3}, new_key())
    assert fresh.status_code == 200


@pytest.mark.parametrize(
    "name, body, code",
    [
        ("remove_item", {"product_id": 2**53 - 1}, "product_not_found"),
        ("remove_item", "in-stock product", "item_not_in_cart"),
        ("checkout", {}, "cart_empty"),
    ],
)
def test_every_domain_refusal_is_replayed(client, new_user, admin, name, body, code):
    if body == "in-stock product":
        body = {"product_id": admin.create_product(stock=3)}
    _, token = new_user()
    key = new_key()
    answers = [keyed(client(name), token, body, key) for _ in range(2)]
    assert [error_of(a)["code"] for a in answers] == [code, code]
    assert [a.headers.get(REPLAYED) for a in answers] == [None, "true"]


def test_validation_and_auth_failures_are_not_stored(client, new_user, admin):
    product = admin.create_product(stock=5)
    user, token = new_user()
    key = new_key()
    bad = keyed(client("add_item"), token, {"product_id": product, "quantity": 0}, key)
    assert error_of(bad)["code"] == "validation_error"
    anonymous = keyed(client("add_item"), None, {"product_id": product}, key)
    assert error_of(anonymous)["code"] == "unauthorized"
    assert admin.scalar("select count(*) from idempotency_keys where key = :k", k=key) == 0
    good = keyed(client("add_item"), token, {"product_id": product}, key)
    assert good.status_code == 200 and REPLAYED not in good.headers
    assert admin.in_cart(user, product) == 1


@pytest.mark.parametrize(
    "key", ["a", "a" * 255, "AZaz09._:-", "2c1e5b1e-0000-4000-8000-000000000000"]
)
def test_well_formed_keys_are_accepted(client, new_user, admin, key):
    product = admin.create_product(stock=5)
    _, token = new_user()
    assert keyed(client("add_item"), token, {"product_id": product}, key).status_code == 200


def test_concurrent_retries_apply_once_and_all_get_the_first_answer(apps, new_user, admin):
    product = admin.create_product(stock=100)
    user, token = new_user()
    key = new_key()
    app = apps["add_item"]
    calls = [
        (lambda: keyed(app.test_client(), token, {"product_id": product, "quantity": 2}, key))
        for _ in range(12)
    ]
    answers = run_concurrently(calls, threads=12)
    assert {a.status_code for a in answers} == {200}
    assert len({a.get_data() for a in answers}) == 1
    assert Counter(a.headers.get(REPLAYED) for a in answers) == {None: 1, "true": 11}
    assert (admin.stock(product), admin.in_cart(user, product)) == (98, 2)


def test_a_retry_waits_for_the_first_attempt_still_running(apps, new_user, admin):
    """The first attempt is held on a product lock; its retry queues on the key, then replays."""
    product = admin.create_product(stock=10)
    user, token = new_user()
    key = new_key()
    app = apps["add_item"]
    answers = {}

    def send(name):
        answers[name] = keyed(app.test_client(), token, {"product_id": product}, key)

    with admin.holding("select * from products where id = :p for update", p=product):
        first = threading.Thread(target=send, args=("first",))
        first.start()
        wait_for_lock_waiters(admin, 1)
        retry = threading.Thread(target=send, args=("retry",))
        retry.start()
        wait_for_lock_waiters(admin, 2)
    first.join(10)
    retry.join(10)
    assert answers["first"].status_code == answers["retry"].status_code == 200
    assert REPLAYED not in answers["first"].headers
    assert answers["retry"].headers[REPLAYED] == "true"
    assert (admin.stock(product), admin.in_cart(user, product)) == (9, 1)
