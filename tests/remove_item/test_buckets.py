"""remove_item on a product whose stock lives in N buckets: units go back to a bucket that
nobody holds (any bucket will do: units are all alike), without waiting when one is free."""

import threading

import pytest

from tests.add_item.test_buckets import HOLD_ALL_BUT
from tests.support import post, wait_for_lock_waiters


@pytest.mark.parametrize("free", [0, 3, 7])
def test_a_remove_gives_back_to_a_bucket_nobody_holds(invoke, client, new_user, admin, env, free):
    env(DB_LOCK_TIMEOUT_MS="300")  # a wait would fail: a 200 waited for nobody
    product = admin.create_product(stock=18, buckets=8)  # [3, 3, 2, 2, 2, 2, 2, 2]
    user, token = new_user()
    admin.put_in_cart(user, product, 3)  # bucket 0 -> 0
    before = admin.buckets(product)
    with admin.holding(HOLD_ALL_BUT, p=product, free=[free]):
        answer = invoke("remove_item", {"product_id": product, "quantity": 2}, token)
        assert (answer.status, answer.json) == (200, {"product_id": product, "quantity": 1})
    expected = list(before)
    expected[free] += 2
    assert admin.buckets(product) == expected


def test_with_every_bucket_held_a_remove_waits_for_one(client, new_user, admin):
    product = admin.create_product(stock=16, buckets=8)
    user, token = new_user()
    admin.put_in_cart(user, product, 2)
    answers = []
    with admin.holding(HOLD_ALL_BUT, p=product, free=[-1]):
        thread = threading.Thread(
            target=lambda: answers.append(
                post(client("remove_item"), token, {"product_id": product})
            )
        )
        thread.start()
        wait_for_lock_waiters(admin, 1)
    thread.join(10)
    assert answers[0].status_code == 200
    assert (admin.stock(product), admin.in_cart(user, product)) == (15, 1)
