"""Invariants under random concurrent load, as a hypothesis stateful test.

Each step is a burst: a random handful of adds, removes, checkouts (with or without an
Idempotency-Key, sometimes the same keyed request twice at once), retries of earlier keyed
requests and expiry sweeps, by several users over a few scarce products, started together on
threads against the real database. After every burst:

- every product's stock is ≥ 0;
- for every product, stock + Σ cart quantities + Σ ordered quantities = its starting stock;
- no order without lines, no cart line with quantity ≤ 0 (one query checks these three);
- every request sent with an already answered key got that first answer back.

Derandomized (a fixed seed) so that CI runs the same plans every time; the interleavings are
whatever the threads and PostgreSQL make of them.
"""

import json

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import create_engine

from shared.adapters.postgres.connection import pg8000_url
from tests.support import Admin, post, random_id, run_concurrently

USERS, PRODUCTS, STARTING_STOCK = 4, 3, 12

_user = st.integers(0, USERS - 1)
_product = st.integers(0, PRODUCTS - 1)
_keying = st.sampled_from([None, "key", "key sent twice at once"])
_command = st.one_of(
    st.tuples(st.just("add_item"), _user, _product, st.integers(1, 4), _keying),
    st.tuples(st.just("add_item"), _user, _product, st.integers(1, 4), _keying),
    st.tuples(st.just("remove_item"), _user, _product, st.integers(1, 5), _keying),
    st.tuples(st.just("checkout"), _user, st.just(0), st.just(0), _keying),
    st.tuples(st.just("retry"), st.integers(0, 10**6)),
    st.tuples(st.just("sweep"), _user),
)


def answer_of(response) -> tuple:
    """What must be identical between a first answer and its replays (not the correlation id)."""
    body = response.get_json()
    if "error" in body:
        body = {k: v for k, v in body["error"].items() if k != "correlation_id"}
    return response.status_code, json.dumps(body)


def test_invariants_hold_under_random_concurrent_load(apps, database_url, new_user, capsys):
    # A pooled owner connection: the checks run after every step, so connecting each time shows.
    admin = Admin(create_engine(pg8000_url(database_url), isolation_level="AUTOCOMMIT"))
    totals = {"commands": 0, "bursts": 0, "examples": 0, "replays": 0}

    class ShopUnderLoad(RuleBasedStateMachine):
        @initialize()
        def open_shop(self):
            totals["examples"] += 1
            self.products = [admin.create_product(stock=STARTING_STOCK) for _ in range(PRODUCTS)]
            self.users = [new_user() for _ in range(USERS)]
            self.keyed = []  # (function, token, body, key) of every keyed request sent
            self.answers = {}  # (token, key) -> [(answer, replayed)]

        @rule(commands=st.lists(_command, min_size=2, max_size=10))
        def burst(self, commands):
            calls = []
            for command in commands:
                calls.extend(self._calls_for(command))
            if not calls:
                return
            results = run_concurrently([call for call, _ in calls], threads=len(calls))
            totals["bursts"] += 1
            totals["commands"] += len(calls)
            for (_, keyed), response in zip(calls, results, strict=True):
                assert response.status_code < 500, response.get_data(as_text=True)
                if keyed:
                    replayed = response.headers.get("Idempotent-Replayed") == "true"
                    totals["replays"] += replayed
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
                "select p.stock,"
                " coalesce((select sum(quantity) from cart_items where product_id = p.id), 0),"
                " coalesce((select sum(quantity) from order_items where product_id = p.id), 0),"
                " (select count(*) from orders o where o.user_id = any(:users)"
                "   and not exists (select from order_items i where i.order_id = o.id)),"
                " (select count(*) from cart_items where quantity <= 0)"
                " from products p where p.id = any(:ids)",
                ids=self.products,
                users=[user for user, _ in self.users],
            )
            assert len(rows) == PRODUCTS
            for stock, in_carts, ordered, orders_without_lines, empty_lines in rows:
                assert stock >= 0
                assert stock + in_carts + ordered == STARTING_STOCK, (stock, in_carts, ordered)
                assert orders_without_lines == 0 and empty_lines == 0

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
    with capsys.disabled():
        print(
            f"\ninvariants held: {totals['commands']} commands ({totals['replays']} replays)"
            f" in {totals['bursts']} concurrent bursts (interleavings)"
            f" over {totals['examples']} examples"
        )
    admin.engine.dispose()
    assert totals["commands"] > 500
