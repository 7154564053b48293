"""Exchanges per command, ours and the baseline's, counted through the wire proxy.

Run as `python -m bench.exchanges` in a process of its own (DATABASE_URL and BENCH_PRIVATE_JWK
in the environment): the apps are loaded in-process with every connection going through the
proxy, one command at a time, after a warm-up command has opened the pool. Prints JSON.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import warnings

from bench.stack import user_id
from bench.wire_proxy import WireProxy
from devstack import database, devkeys
from functions import registry


def _our_poster():
    import functions_framework

    apps = {
        f.name: functions_framework.create_app(f.name, str(f.source)) for f in registry.COMMANDS
    }

    def post(function: str, token: str, body: dict) -> int:
        client = apps[function].test_client()
        return client.post("/", json=body, headers={"Authorization": f"Bearer {token}"}).status_code

    return post


def _baseline_poster():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # starlette's note that its TestClient will change client
        from fastapi.testclient import TestClient

    from bench.baseline_fastapi.app import app

    client = TestClient(app)

    def post(function: str, token: str, body: dict) -> int:
        return client.post(f"/{function}", json=body, headers={"Authorization": f"Bearer {token}"})

    return lambda *args: post(*args).status_code


# Leaves one unit of product 2 in the cart, for the add, remove and checkout that are counted.
WARM_UP = (
    ("add_item", {"product_id": 2, "quantity": 2}),
    ("remove_item", {"product_id": 2}),
    ("checkout", {}),
    ("add_item", {"product_id": 2}),
)


BUCKETS_PRODUCT = 6  # kept in 8 buckets by the bench for this count (bench/scenarios.py)


def measure(proxy: WireProxy, post, token: str, buckets: bool = False) -> dict[str, dict]:
    def cost(function: str, body: dict) -> dict:
        before = proxy.snapshot()
        status = post(function, token, body)
        if status != 200:
            raise RuntimeError(f"{function} answered {status}")
        return dataclasses.asdict(proxy.snapshot() - before)

    # Each command once first: the pool is open and anything prepared per connection is
    # prepared, so the counts are the steady state every later request pays.
    for function, body in WARM_UP:
        post(function, token, body)
    counts = {
        "add_item": cost("add_item", {"product_id": 2}),
        "remove_item": cost("remove_item", {"product_id": 2}),
        "checkout (1 line)": cost("checkout", {}),
    }
    for product in (3, 4, 5):
        post("add_item", token, {"product_id": product})
    counts["checkout (3 lines)"] = cost("checkout", {})
    if buckets:  # the baseline knows one stock row per product only
        post("add_item", token, {"product_id": BUCKETS_PRODUCT})
        counts["add_item (8 buckets)"] = cost("add_item", {"product_id": BUCKETS_PRODUCT})
    return counts


def main() -> None:
    url, jwk = os.environ["DATABASE_URL"], json.loads(os.environ["BENCH_PRIVATE_JWK"])
    with WireProxy.for_url(url) as proxy:
        os.environ["JWT_JWKS"] = json.dumps(devkeys.public_jwks(jwk))
        # Ours logs in as shop_functions, as deployed; the baseline (not ours) as the owner.
        logins = (database.functions_url(proxy.url(url)), proxy.url(url))
        posters = (("ours", _our_poster), ("baseline", _baseline_poster))
        results = {}
        for n, ((name, poster), login) in enumerate(zip(posters, logins, strict=True)):
            os.environ["DATABASE_URL"] = login  # read on first use by each
            token = devkeys.mint_token(jwk, user_id(900_000 + n))
            results[name] = measure(proxy, poster(), token, buckets=name == "ours")
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
