"""Network exchanges per command, counted on the wire: a count, not a time, so it cannot flake.

An exchange is one client write followed by a wait for the server (bench/wire_proxy.py). With the
database a network hop away each one costs a round trip, and those made while a row lock is held
make every transaction queued on a hot product wait that much longer. The pins are what the code
on main achieves: when a change lowers a count, lower the pin with it so it stays lowered.
"""

from __future__ import annotations

import pytest

from bench.wire_proxy import Counts, WireProxy
from devstack import database
from tests import support

# command -> (exchanges, exchanges while a row lock is held, statements incl. BEGIN/COMMIT).
# One exchange per statement: BEGIN and COMMIT as simple queries, lock and save as named
# prepared statements; no pre-ping (BEGIN is the ping). Only the save and the COMMIT happen
# while the rows are locked. (With the pool's pre-ping this was 5 / 2 / 5; through SQLAlchemy's
# DB-API path 11 / 6 / 5: three exchanges per parameterized statement and for COMMIT.)
PINNED = {
    "add_item": (4, 2, 4),
    "remove_item": (4, 2, 4),
    "checkout": (4, 2, 4),
}


@pytest.fixture
def wire(database_url):
    """Every function's connections go through a counting proxy for the test's duration."""
    # The environment goes back (closing the pool) before the proxy stops.
    with WireProxy.for_url(database_url) as proxy, support.environment() as change:
        change(DATABASE_URL=database.functions_url(proxy.url(database_url)))
        yield proxy


def post(client, function: str, token: str, body: dict) -> None:
    response = client(function).post("/", json=body, headers={"Authorization": token})
    assert response.status_code == 200, response.get_json()


def counted(wire: WireProxy, run) -> Counts:
    before = wire.snapshot()
    run()
    return wire.snapshot() - before


def pinned(counts: Counts) -> tuple[int, int, int]:
    return counts.exchanges, counts.exchanges_while_locked, counts.statements


def check(command: str, counts: Counts) -> None:
    measured = pinned(counts)
    assert measured == PINNED[command], f"now {command!r}: {measured}, update PINNED if intended"


def warm_up(client, token: str, product: int) -> None:
    """Run each command once, so that the pool is open and anything prepared per connection is
    prepared: the pins are the steady state every later request pays."""
    post(client, "add_item", token, {"product_id": product, "quantity": 2})
    post(client, "remove_item", token, {"product_id": product})
    post(client, "checkout", token, {})


@pytest.mark.parametrize("buckets", [1, 8], ids=["N=1", "N=8"])
def test_exchanges_per_add_and_remove(wire, client, new_user, admin, buckets):
    """The same pins whether the product's stock is one row or 8 buckets: the add locks one
    bucket in the same statement that locks the cart."""
    product = admin.create_product(stock=16, buckets=buckets)
    _, token = new_user()
    warm_up(client, token, product)
    post(client, "add_item", token, {"product_id": product})

    # With N = 8 a command picks its bucket at random and writes it through the statement for
    # the product row (bucket 0) or the one for another bucket (shared/adapters/postgres/
    # carts.py): the first use of the one the warm-up did not pick prepares it, one exchange
    # once per connection. The steady state is the cheapest of a few runs (a single
    # connection: at most one run per statement pays it).
    adds, removes = [], []
    for _ in range(4):
        adds.append(counted(wire, lambda: post(client, "add_item", token, {"product_id": product})))
        removes.append(
            counted(wire, lambda: post(client, "remove_item", token, {"product_id": product}))
        )
    add, remove = (min(runs, key=pinned) for runs in (adds, removes))

    assert (add.transactions, add.lock_holds) == (1, 1)
    check("add_item", add)
    check("remove_item", remove)


def test_checkout_costs_the_same_whatever_the_number_of_lines(wire, client, new_user, admin):
    products = [admin.create_product(stock=10) for _ in range(3)]
    costs = {}
    for lines in (1, 3):
        _, token = new_user()
        warm_up(client, token, products[0])
        for product in products[:lines]:
            post(client, "add_item", token, {"product_id": product, "quantity": 2})
        costs[lines] = counted(wire, lambda token=token: post(client, "checkout", token, {}))

    assert costs[1] == costs[3]
    check("checkout", costs[3])
