"""set_product_stock during a drop: the owner sets the stock (and N) while shoppers add and
remove and the sweep gives units back, all at once on one product. Nothing is lost and nothing
is counted twice: after every round, stock + carts + orders is what the owner set plus what
carts and orders held at that instant.

The owner's transaction reads what carts and orders hold right after its call, before it
commits: set_product_stock holds every bucket by then, so no add, remove or sweep of the
product can commit in between (checkouts move units from carts to orders, which keeps the sum).
"""

import random
from collections import Counter

from sqlalchemy import text

from tests.support import post, run_concurrently

ROUNDS = 5


def test_set_product_stock_amid_adds_removes_and_sweeps(apps, new_user, admin):
    product = admin.create_product(stock=64, buckets=8)
    users = [new_user() for _ in range(4)]
    owner = admin.engine.execution_options(isolation_level="READ COMMITTED")
    rng = random.Random(10)
    total, statuses = 64, Counter()

    def set_stock(units: int, buckets: int) -> int:
        with owner.connect() as conn, conn.begin():
            conn.execute(
                text("select public.set_product_stock(:p, :u, :b)"),
                {"p": product, "u": units, "b": buckets},
            )
            spread = [
                units
                for (units,) in conn.execute(
                    text(
                        "select stock from products where id = :p union all"
                        " select units from product_stock_buckets where product_id = :p"
                    ),
                    {"p": product},
                )
            ]
            assert (len(spread), sum(spread)) == (buckets, units)
            assert max(spread) - min(spread) <= 1, spread  # evenly
            held = conn.execute(
                text(
                    "select coalesce((select sum(quantity) from cart_items where product_id = :p),"
                    " 0) + coalesce((select sum(quantity) from order_items"
                    " where product_id = :p), 0)"
                ),
                {"p": product},
            ).scalar()
        return units + held

    def command(function, token, body):
        return lambda: post(apps[function].test_client(), token, body)

    for _ in range(ROUNDS):
        calls = []
        for _ in range(14):
            _, token = rng.choice(users)
            calls.append(
                command("add_item", token, {"product_id": product, "quantity": rng.randint(1, 3)})
            )
        for _ in range(5):
            _, token = rng.choice(users)
            calls.append(command("remove_item", token, {"product_id": product}))
        calls.append(command("checkout", rng.choice(users)[1], {}))
        admin.expire_cart(rng.choice(users)[0])
        calls.append(lambda: apps["release_expired_carts"].test_client().post("/"))
        units, buckets = rng.randint(0, 40), rng.choice([1, 2, 4, 8, 16])
        setter = len(calls) // 2
        calls.insert(setter, lambda u=units, b=buckets: set_stock(u, b))
        results = run_concurrently(calls, threads=len(calls))
        total = results.pop(setter)
        for response in results:
            statuses[response.status_code] += 1
            assert response.status_code < 500, response.get_json()
        held = admin.scalar(
            "select coalesce((select sum(quantity) from cart_items where product_id = :p), 0)"
            " + coalesce((select sum(quantity) from order_items where product_id = :p), 0)",
            p=product,
        )
        assert admin.stock(product) + held == total, (admin.buckets(product), held, total)
        assert min(admin.buckets(product)) >= 0
    assert statuses[200] > ROUNDS * 5, statuses
    print(f"set_product_stock amid {sum(statuses.values())} commands: {dict(statuses)}")
