"""add_item on a product whose stock lives in N buckets (sql/16_stock_buckets.sql).

Which rows an add locks is the repository's choice (shared/adapters/postgres/stock.py): a bucket
that alone holds enough and that nobody holds, else one that does (waiting), else all of them in
ascending order. The rule stays the domain's: `insufficient_stock` only on the whole.
Row locks held by the owner's open transaction (`admin.holding`) stand in for other buyers.
"""

import threading

import pytest

from tests.support import error_of, post, wait_for_lock_waiters

# Locks every bucket of a product except those listed in :free, as concurrent adds would.
HOLD_ALL_BUT = """
select (select count(*) from (select 1 from products where id = :p and 0 <> all(:free)
        for no key update) b0),
       (select count(*) from (select 1 from product_stock_buckets
        where product_id = :p and bucket <> all(:free) order by bucket for no key update) rest)
"""


@pytest.fixture
def no_waiting(env):
    """A lock wait fails fast (503): an add that answers 200 waited for nobody."""
    env(DB_LOCK_TIMEOUT_MS="300")


def test_an_add_bigger_than_any_bucket_is_served_from_several(invoke, new_user, admin):
    product = admin.create_product(stock=40, buckets=8)  # 5 a bucket
    user, token = new_user()
    answer = invoke("add_item", {"product_id": product, "quantity": 12}, token)
    assert (answer.status, answer.json) == (200, {"product_id": product, "quantity": 12})
    assert (admin.stock(product), admin.in_cart(user, product)) == (28, 12)
    assert sorted(admin.buckets(product)) == [0, 0, 3, 5, 5, 5, 5, 5]  # ascending, each emptied


def test_insufficient_stock_is_said_on_the_whole_only(invoke, new_user, admin):
    product = admin.create_product(stock=40, buckets=8)
    user, token = new_user()
    before = admin.snapshot()
    answer = invoke("add_item", {"product_id": product, "quantity": 41}, token)
    assert (answer.status, error_of(answer)["code"]) == (409, "insufficient_stock")
    assert "40 in stock" in error_of(answer)["message"]
    assert admin.snapshot() == before
    answer = invoke("add_item", {"product_id": product, "quantity": 40}, token)
    assert answer.status == 200 and admin.buckets(product) == [0] * 8


@pytest.mark.parametrize("free", [0, 5, 7])
def test_an_add_takes_a_bucket_nobody_holds_without_waiting(
    client, new_user, admin, free, no_waiting
):
    product = admin.create_product(stock=16, buckets=8)  # 2 a bucket
    user, token = new_user()
    with admin.holding(HOLD_ALL_BUT, p=product, free=[free]):
        response = post(client("add_item"), token, {"product_id": product, "quantity": 2})
        assert response.status_code == 200, response.get_json()
    expected = [2] * 8
    expected[free] = 0
    assert admin.buckets(product) == expected
    assert admin.in_cart(user, product) == 2


def waits_then_answers(client, token, body, admin):
    """Start the add on a thread, see it wait for a lock, and hand back a way to get its answer."""
    answers = []
    thread = threading.Thread(
        target=lambda: answers.append(post(client("add_item"), token, body)), daemon=True
    )
    thread.start()
    wait_for_lock_waiters(admin, 1)

    def answer():
        thread.join(10)
        return answers[0]

    return answer


def test_when_every_fitting_bucket_is_held_the_add_waits_for_one(client, new_user, admin):
    product = admin.create_product(stock=16, buckets=8)
    user, token = new_user()
    with admin.holding(HOLD_ALL_BUT, p=product, free=[-1]):
        answer = waits_then_answers(client, token, {"product_id": product, "quantity": 2}, admin)
    assert answer().status_code == 200
    assert (admin.stock(product), admin.in_cart(user, product)) == (14, 2)


def test_when_no_bucket_alone_has_enough_the_add_waits_for_all(client, new_user, admin):
    product = admin.create_product(stock=16, buckets=8)
    user, token = new_user()
    with admin.holding(HOLD_ALL_BUT, p=product, free=[0, 1, 2, 3, 4, 5, 6]):  # bucket 7 held
        answer = waits_then_answers(client, token, {"product_id": product, "quantity": 9}, admin)
    assert answer().status_code == 200
    assert admin.buckets(product) == [0, 0, 0, 0, 1, 2, 2, 2]


@pytest.mark.parametrize(
    "bucket0, taken_meanwhile, status, buckets_after",
    [
        (0, 3, 409, [0, 0, 0, 2]),  # the whole is short too: insufficient_stock, nothing taken
        (3, 3, 200, [0, 0, 0, 1]),  # the whole covers it: served from bucket 0 and bucket 3
    ],
)
def test_a_bucket_taken_from_while_waiting_is_never_the_last_word(
    client, new_user, admin, bucket0, taken_meanwhile, status, buckets_after
):
    """The trap of a partial hold: the add saw bucket 3 hold 5, waited for it, found 2. It must
    not refuse on that bucket alone: it runs again holding every bucket."""
    product = admin.create_product(stock=0, buckets=4)
    admin.execute("update products set stock = :s where id = :p", s=bucket0, p=product)
    admin.execute(
        "update product_stock_buckets set units = 5 where product_id = :p and bucket = 3",
        p=product,
    )
    user, token = new_user()
    with admin.holding(
        "update product_stock_buckets set units = units - :t where product_id = :p and bucket = 3",
        p=product,
        t=taken_meanwhile,
    ):
        answer = waits_then_answers(client, token, {"product_id": product, "quantity": 4}, admin)
    response = answer()
    assert response.status_code == status, response.get_json()
    if status == 409:
        error = error_of(response)
        assert error["code"] == "insufficient_stock" and "2 in stock" in error["message"]
    assert admin.buckets(product) == buckets_after
    assert admin.in_cart(user, product) == (4 if status == 200 else 0)


def lock_statements_sent(caplog) -> list[str]:
    """Which lock statement each add sent: the one for buckets, or the one for a single row."""
    sent = []
    for record in caplog.records:
        message = record.getMessage()
        if record.name == "shared.sql" and "insert into carts" in message:
            sent.append("buckets" if "skip locked" in message else "row")
    caplog.clear()
    return sent


def test_a_product_in_one_row_is_locked_by_the_cheaper_statement_once_known(
    client, new_user, admin, caplog, env
):
    """The bucket statement's plan costs two to three times the server time even when it skips
    every bucket phase; a warm instance that has seen N = 1 locks the row the old way."""
    single = admin.create_product(stock=10)
    split = admin.create_product(stock=16, buckets=8)
    _, token = new_user()
    caplog.set_level("DEBUG", logger="shared.sql")
    caplog.clear()
    for _ in range(3):
        for product in (single, split):
            assert post(client("add_item"), token, {"product_id": product}).status_code == 200
    # The first add of each runs the bucket statement; then the row for the single one.
    assert lock_statements_sent(caplog) == ["buckets", "buckets"] + ["row", "buckets"] * 2
    # An operator splits the product in the middle of the drop: the hint is stale once.
    admin.execute("select public.set_product_stock(:p, 20, 4)", p=single)
    assert post(client("add_item"), token, {"product_id": single}).status_code == 200
    assert lock_statements_sent(caplog) == ["row", "buckets"]  # the second run holds buckets
    assert admin.stock(single) == 19
    assert post(client("add_item"), token, {"product_id": single}).status_code == 200
    assert lock_statements_sent(caplog) == ["buckets"]
