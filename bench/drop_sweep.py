"""The sweep at drop scale: a drop's abandoned carts, released by one run of the sweep.

After a drop, tens of thousands of carts hold the product until they expire, and it shows sold
out until the sweep gives their units back. `seed()` leaves 100,000 expired carts of one product
(1 unit each, as adds would have left them) beside the units still available, in buckets; the
scenario (bench/scenarios.py) then runs the release_expired_carts function once, as deployed
(its Lambda handler, logging in as shop_functions, bounded by SWEEP_BUDGET_SECONDS), while adds
of the same product keep going through ours.

`python -m bench.drop_sweep` is that one run, in a process of its own: it imports the function,
prints "ready", waits for a line on stdin (so the adds are going before it starts) and prints
the run's answer as JSON with how long it took.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time

from sqlalchemy import text

from bench import stack

FIRST_USER = 10_000_000  # beyond the bench's own users


def seed(url: str, product: int, carts: int, total: int, buckets: int) -> None:
    """`carts` expired carts with 1 unit of `product` each, and `total - carts` units available
    in `buckets` buckets: `total` in all."""
    with stack.admin(url) as conn:
        conn.execute(
            text(
                "with new_carts as ("
                "  insert into carts (user_id, expires_at)"
                "  select cast('00000000-0000-4000-8000-' || lpad(cast(g as text), 12, '0')"
                "              as uuid), now() - interval '1 minute'"
                "  from generate_series(cast(:first as bigint), cast(:last as bigint)) g"
                "  returning id"
                ") insert into cart_items (cart_id, product_id, quantity)"
                " select id, cast(:product as bigint), 1 from new_carts"
            ),
            {"first": FIRST_USER, "last": FIRST_USER + carts - 1, "product": product},
        )
        conn.execute(text("vacuum analyze carts, cart_items"))
    stack.set_stock(url, product, total - carts, buckets)


def main() -> None:
    source = stack.ROOT / "functions" / "release_expired_carts" / "main.py"
    spec = importlib.util.spec_from_file_location("release_expired_carts_main", source)
    function = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(function)
    print("ready", flush=True)
    sys.stdin.readline()
    started = time.perf_counter()
    answer = function.handler({}, None)
    print(json.dumps({**answer, "seconds": time.perf_counter() - started}), flush=True)


if __name__ == "__main__":
    main()
