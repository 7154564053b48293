"""Invariants under random concurrent load, as a hypothesis stateful test.

Each step is a burst: a random handful of adds, removes, checkouts (with or without an
Idempotency-Key, sometimes the same keyed request twice at once), retries of earlier keyed
requests, expiry sweeps and the owner's set_product_stock (through an owner connection, as from
the Supabase SQL editor), by several users over a few scarce products, started together on
threads against the real database. The products hold their stock in 1, 4 and 8 buckets (and
set_product_stock changes that), one has a purchase limit, and the cart caps and the rate limit
are on with small values, so refusals of every kind happen. After every burst:

- every product's stock (the sum over its buckets) is ≥ 0, and N matches its bucket rows;
- for every product, stock + Σ cart quantities + Σ ordered quantities is conserved: it is the
  starting stock, except that set_product_stock sets the stock available (the owner's
  transaction reads, after its call and before it commits, what carts and orders hold then);
- no customer holds (cart plus orders) more than a product's limit, no cart passes a cap;
- no order without lines, no cart line with quantity ≤ 0 (one query checks these);
- every answer is a 2xx or 4xx, or 503 busy_try_again, never another 5xx;
- every request sent with an already answered key got that first answer back (a 429 or a 503
  is not an answer: the key stays free and a retry runs the command).

Derandomized (a fixed seed) so that CI runs the same plans every time; the interleavings are
whatever the threads and PostgreSQL make of them.
"""

import json
from collections import Counter

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import create_engine, text

from shared.adapters.postgres.connection import pg8000_url
from tests.support import Admin, post, random_id, run_concurrently

USERS, STARTING_STOCK = 4, 12
# (buckets, max_per_customer) of each product
PRODUCTS = [(1, None), (4, 3), (8, None)]
CART_MAX_LINES, CART_MAX_UNITS = 2, 6
RATE_LIMIT_PER_MINUTE, RATE_LIMIT_BURST = 120, 4
NOT_ANSWERS = {429, 503}  # the key stays free: no stored answer to replay

_user = st.integers(0, USERS - 1)
_product = st.integers(0, len(PRODUCTS) - 1)
_keying = st.sampled_from([None, "key", "key sent twice at once"])
_command = st.one_of(
    st.tuples(st.just("add_item"), _user, _product, st.integers(1, 4), _keying),
    st.tuples(st.just("add_item"), _user, _product, st.integers(1, 4), _keying),
    st.tuples(st.just("remove_item"), _user, _product, st.integers(1, 5), _keying),
    st.tuples(st.just("checkout"), _user, st.just(0), st.just(0), _keying),
    st.tuples(st.just("retry"), st.integers(0, 10**6)),
    st.tuples(st.just("sweep"), _user),
    st.tuples(
        st.just("set_product_stock"),
        _product,
        st.integers(0, 16),
        st.sampled_from([None, 1, 2, 4, 8]),
    ),
)

HELD = """
select coalesce((select sum(quantity) from cart_items where product_id = :p), 0)
     + coalesce((select sum(quantity) from order_items where product_id = :p), 0)
"""


def answer_of(response) -> tuple:
    """What must be identical between a first answer and its replays (not the correlation id)."""
    body = response.get_json()
    if "error" in body:
        body = {k: v for k, v in body["error"].items() if k != "correlation_id"}
    return response.status_code, json.dumps(body)


def test_invariants_hold_under_random_concurrent_load(apps, database_url, new_user, env, capsys):
    env(
        CART_MAX_LINES=str(CART_MAX_LINES),
        CART_MAX_UNITS=str(CART_MAX_UNITS),
        RATE_LIMIT_PER_MINUTE=str(RATE_LIMIT_PER_MINUTE),
        RATE_LIMIT_BURST=str(RATE_LIMIT_BURST),
    )
    # A pooled owner connection: the checks run after every step, so connecting each time shows.
    admin = Admin(create_engine(pg8000_url(database_url), isolation_level="AUTOCOMMIT"))
    owner = admin.engine.execution_options(isolation_level="READ COMMITTED")
    totals = Counter()
    outcomes = Counter()  # (status, code) of every answer

    def set_product_stock(product: int, units: int, buckets: int | None) -> tuple[int, int]:
        """The owner's call, then (in the same transaction, still holding every bucket, so no
        add, remove or sweep of the product can commit in between) what carts and orders
        hold: the product's conserved total from then on."""
        with owner.connect() as conn, conn.begin():
            conn.execute(
                text("select public.set_product_stock(:p, :u, :b)"),
                {"p": product, "u": units, "b": buckets},
            )
            held = conn.execute(text(HELD), {"p": product}).scalar()
        return product, units + held

    class ShopUnderLoad(RuleBasedStateMachine):
        @initialize()
        def open_shop(self):
            totals["examples"] += 1
            self.products, self.limits, self.totals = [], {}, {}
            for buckets, limit in PRODUCTS:
                product = admin.create_product(
                    stock=STARTING_STOCK, buckets=buckets, max_per_customer=limit
                )
                self.products.append(product)
                self.totals[product] = STARTING_STOCK
                if limit:
                    self.limits[product] = limit
            self.users = [new_user() for _ in range(USERS)]
            self.keyed = []  # (function, token, body, key) of every keyed request sent
            self.answers = {}  # (token, key) -> [(answer, replayed)]

        @rule(commands=st.lists(_command, min_size=2, max_size=10))
        def burst(self, commands):
            calls, restocked = [], set()
            for command in commands:
                if command[0] == "set_product_stock":
                    _, index, units, buckets = command
                    if index in restocked:  # one per product and burst: its total is exact
                        continue
                    restocked.add(index)
                    product = self.products[index]
                    calls.append(
                        (lambda p=product, u=units, b=buckets: set_product_stock(p, u, b), "set")
                    )
                else:
                    calls.extend(self._calls_for(command))
            if not calls:
                return
            results = run_concurrently([call for call, _ in calls], threads=len(calls))
            totals["bursts"] += 1
            for (_, kind), result in zip(calls, results, strict=True):
                if kind == "set":
                    product, total = result
                    self.totals[product] = total
                    totals["set_product_stock"] += 1
                    continue
                totals["commands"] += 1
                self._check_answer(kind, result)

        def _check_answer(self, keyed, response):
            body = response.get_json()
            code = body["error"]["code"] if "error" in body else None
            outcomes[response.status_code, code] += 1
            assert response.status_code < 500 or code == "busy_try_again", body
            if keyed:
                replayed = response.headers.get("Idempotent-Replayed") == "true"
                totals["replays"] += replayed
                if response.status_code not in NOT_ANSWERS:
                    self.answers.setdefault(keyed, []).append((answer_of(response), replayed))

        def _calls_for(self, command):
            kind = command[0]
            if kind == "sweep":
                admin.expire_cart(self.users[command[1]][0])
                return [(lambda: apps["release_expired_carts"].test_client().post("/"), None)]
            if kind == "retry":
                if not self.keyed:
                    return []
                return [self._send(*self.keyed[command[1] % len(self.keyed)])]
            function, user, product, quantity, keying = command
            token = self.users[user][1]
            body = (
                {}
                if function == "checkout"
                else {
                    "product_id": self.products[product],
                    "quantity": quantity,
                }
            )
            if keying is None:
                return [self._send(function, token, body, None)]
            request = (function, token, body, f"k-{random_id()}")
            self.keyed.append(request)
            return [self._send(*request)] * (2 if keying == "key sent twice at once" else 1)

        @staticmethod
        def _send(function, token, body, key):
            headers = {"Idempotency-Key": key} if key else {}

            def call():
                return post(apps[function].test_client(), token, body, **headers)

            return call, (token, key) if key else None

        @invariant()
        def every_unit_is_in_stock_a_cart_or_an_order(self):
            rows = admin.rows(
                "select p.id, c.stock, p.stock_buckets,"
                " 1 + (select count(*) from product_stock_buckets b where b.product_id = p.id),"
                " coalesce((select sum(quantity) from cart_items where product_id = p.id), 0),"
                " coalesce((select sum(quantity) from order_items where product_id = p.id), 0),"
                " (select count(*) from orders o where o.user_id = any(:users)"
                "   and not exists (select from order_items i where i.order_id = o.id)),"
                " (select count(*) from cart_items where quantity <= 0)"
                " from products p join product_catalog c on c.id = p.id where p.id = any(:ids)",
                ids=self.products,
                users=[user for user, _ in self.users],
            )
            assert len(rows) == len(PRODUCTS)
            for product, stock, n, rows_of_n, in_carts, ordered, no_lines, empty_lines in rows:
                assert stock >= 0 and n == rows_of_n, (product, stock, n, rows_of_n)
                assert stock + in_carts + ordered == self.totals[product], (
                    product,
                    stock,
                    in_carts,
                    ordered,
                    self.totals[product],
                )
                assert no_lines == 0 and empty_lines == 0

        @invariant()
        def no_customer_holds_more_than_a_limit(self):
            users = [user for user, _ in self.users]
            over = admin.rows(
                "select c.user_id, count(*), sum(ci.quantity) from carts c"
                " join cart_items ci on ci.cart_id = c.id where c.user_id = any(:users)"
                " group by c.user_id"
                " having count(*) > :lines or sum(ci.quantity) > :units",
                users=users,
                lines=CART_MAX_LINES,
                units=CART_MAX_UNITS,
            )
            assert over == [], over
            for product, limit in self.limits.items():
                holding = admin.rows(
                    "select u, (select coalesce(sum(ci.quantity), 0) from carts c join cart_items"
                    "   ci on ci.cart_id = c.id where c.user_id = u and ci.product_id = :p)"
                    " + (select coalesce(sum(oi.quantity), 0) from orders o join order_items oi"
                    "   on oi.order_id = o.id where o.user_id = u and oi.product_id = :p)"
                    " from unnest(cast(:users as uuid[])) as u",
                    users=users,
                    p=product,
                )
                assert all(held <= limit for _, held in holding), (product, limit, holding)

        @invariant()
        def every_retry_got_the_first_answer(self):
            for key, answers in self.answers.items():
                assert len({answer for answer, _ in answers}) == 1, (key, answers)
                # Exactly one of them did the work; every other one was a replay.
                assert sum(not replayed for _, replayed in answers) == 1, (key, answers)

    run_state_machine_as_test(
        ShopUnderLoad,
        settings=settings(
            max_examples=15,
            stateful_step_count=12,
            deadline=None,
            derandomize=True,
            database=None,
            # Shrinking replays steps against a database that has moved on: slow and not
            # meaningful for concurrent bursts. A failure prints its steps as they ran.
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        ),
    )
    admin.engine.dispose()
    codes = Counter({code or str(status): n for (status, code), n in outcomes.items()})
    with capsys.disabled():
        print(
            f"\ninvariants held: {totals['commands']} commands ({totals['replays']} replays)"
            f" and {totals['set_product_stock']} set_product_stock calls"
            f" in {totals['bursts']} concurrent bursts over {totals['examples']} examples;"
            f" answers: {dict(sorted(codes.items()))}"
        )
    assert totals["commands"] > 500 and totals["set_product_stock"] > 20
    # Every limit was met, so every invariant above was really put to the test.
    for code in ("purchase_limit_reached", "cart_limit_reached", "rate_limited"):
        assert codes[code] > 0, codes
