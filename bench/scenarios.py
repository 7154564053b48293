"""The scenarios, each for ours and the baseline: warm up, measure for a fixed time, check."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench import ceiling, coldstart, load, stack
from bench.load import Result


@dataclass(frozen=True)
class Knobs:
    seconds: float
    warmup: float
    clients: int
    cold_runs: int
    hop_ms: float = 1.0


def implementations(knobs: Knobs) -> dict[str, dict[str, stack.Target]]:
    return {"ours": stack.OURS, "baseline": stack.BASELINE}


SHAPES = {  # scenario -> (users drawn from, products drawn from)
    "hot": (stack.HOT_USERS, 1),
    "spread": (stack.USERS, stack.PRODUCTS),
}


def row(scenario: str, implementation: str, result: Result, note: str = "") -> dict:
    return {
        "scenario": scenario,
        "implementation": implementation,
        "rate": result.rate,
        "p50_ms": result.p50_ms,
        "p99_ms": result.p99_ms,
        "non_2xx": result.non_2xx + result.socket_errors,
        "requests": result.requests,
        "seconds": result.seconds,
        "note": note,
        **result.extra,
    }


def add_items(
    url: str, tokens, scenario: str, knobs: Knobs, label: str | None = None
) -> tuple[list[dict], list[str]]:
    """hot or spread for each implementation; checks that stock taken == units put in carts."""
    users, products = SHAPES[scenario]
    scenario = label or scenario
    rows, failures = [], []
    for implementation, targets in implementations(knobs).items():
        before = stack.units(url)
        runs = [
            load.wrk_add_items(targets["add_item"], tokens, users, products, knobs.clients, s)
            for s in (knobs.warmup, knobs.seconds)
        ]
        after = stack.units(url)
        taken, carted = before["stock"] - after["stock"], after["in_carts"] - before["in_carts"]
        answered = sum(r.requests - r.non_2xx - r.socket_errors for r in runs)
        # 2xx answers can be fewer than units taken: wrk stops with requests in flight that the
        # server completes but nobody reads. The invariant is that no unit is lost or doubled.
        ok = taken == carted
        check = f"stock taken {taken} {'=' if ok else '!='} units in carts {carted}"
        print(
            f"  {scenario:14} {implementation:14} {runs[1].rate:7.0f} req/s  {check}"
            f" (2xx answers seen {answered}, non-2xx {sum(r.non_2xx for r in runs)},"
            f" socket errors {sum(r.socket_errors for r in runs)})"
            f"{'' if ok else '  CHECK FAILED'}",
            flush=True,
        )
        if not ok:
            failures.append(f"{scenario}/{implementation}: {check}, 2xx answers {answered}")
        rows.append(row(scenario, implementation, runs[1], "" if ok else "CHECK FAILED"))
    return rows, failures


def checkout(url: str, keys: stack.Keys, knobs: Knobs) -> list[dict]:
    """Each client: add 3 random products, check out, again; both implementations."""
    rows = []
    for n, (implementation, targets) in enumerate(implementations(knobs).items()):
        tokens = [keys.token(10_000 * (n + 1) + i) for i in range(knobs.clients)]
        for seconds in (knobs.warmup, knobs.seconds):
            result = load.checkout_flows(
                targets["add_item"], targets["checkout"], tokens, stack.PRODUCTS, seconds
            )
        note = f"{result.extra['orders_per_s']:.0f} orders/s (3 adds + 1 checkout each)"
        print(f"  {'checkout':14} {implementation:14} {result.rate:7.0f} req/s  {note}", flush=True)
        rows.append(row("checkout", implementation, result, note))
    return rows


def ceilings(url: str, knobs: Knobs, shapes=tuple(SHAPES), label: str | None = None) -> list[dict]:
    rows = []
    for scenario in shapes:
        users, products = SHAPES[scenario]
        for seconds in (knobs.warmup, knobs.seconds):
            result = ceiling.pgbench(url, users, products, knobs.clients, seconds)
        scenario = label or scenario
        print(f"  {scenario:14} {'ceiling':14} {result.rate:7.0f} tx/s (pgbench -M prepared)")
        rows.append(row(scenario, "ceiling", result, "pgbench -M prepared, same SQL"))
    return rows


def with_fractions(rows: list[dict]) -> list[dict]:
    """Note each HTTP scenario's throughput as a share of the pgbench ceiling for it."""
    top = {r["scenario"]: r["rate"] for r in rows if r["implementation"] == "ceiling"}
    for r in rows:
        if r["implementation"] != "ceiling" and top.get(r["scenario"]):
            share = f"{100 * r['rate'] / top[r['scenario']]:.0f}% of ceiling"
            r["note"] = "; ".join(filter(None, (share, r["note"])))
    return rows


def exchanges(url: str, keys: stack.Keys, knobs: Knobs) -> dict:
    return _exchanges(url, keys)


def _exchanges(url: str, keys: stack.Keys) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "BENCH_PRIVATE_JWK": json.dumps(keys.private_jwk),
        "PYTHONPATH": str(stack.ROOT),
        "LOG_LEVEL": "WARNING",
    }
    output = subprocess.run(
        [sys.executable, "-W", "ignore", "-m", "bench.exchanges"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(output.stdout)


def cold_starts(url: str, keys: stack.Keys, settings: dict, knobs: Knobs) -> list[dict]:
    """Per function: fresh process to first 200 (median), and import time of its module."""
    token = keys.token(700_000)
    bodies = {"add_item": {"product_id": 7}, "remove_item": {"product_id": 7}, "checkout": {}}

    def refill() -> None:  # remove-item and checkout need something in the cart
        stack.post(stack.OURS["add_item"], token, {"product_id": 7})

    ours_env, baseline_env = stack.server_env(url, keys, **settings), stack.server_env(url, keys)
    # One baseline module serves all three routes, so it has one import cost.
    baseline_import = coldstart.import_cost("bench.baseline_fastapi.app", baseline_env)
    port, rows = coldstart.COLD_PORT, []
    for function in stack.FUNCTIONS:
        module_path = f"{stack.ROOT / 'functions' / function}:{stack.ROOT}"
        runs = {
            "ours": (
                stack.our_command(function, port),
                ours_env,
                "/",
                coldstart.import_cost("main", {**ours_env, "PYTHONPATH": module_path}),
            ),
            "baseline": (
                stack.baseline_command(port),
                baseline_env,
                f"/{function}",
                baseline_import,
            ),
        }
        for implementation, (command, env, path, cost) in runs.items():
            seconds = coldstart.median_first_200(
                knobs.cold_runs,
                command,
                env,
                stack.Target(port, path),
                token,
                bodies[function],
                before=None if function == "add_item" else refill,
            )
            heavy = ", ".join(f"{n} {s:.2f}" for n, s in cost.heaviest)
            print(
                f"  {function:11} {implementation:9} spawn to 200 {seconds:.2f} s,"
                f" import {cost.seconds:.2f} s (CPU {cost.cpu_seconds:.2f} s; {heavy})",
                flush=True,
            )
            rows.append(
                {
                    "function": function,
                    "implementation": implementation,
                    "first_200_s": seconds,
                    "import_s": cost.seconds,
                    "import_cpu_s": cost.cpu_seconds,
                    "heaviest": cost.heaviest,
                }
            )
    return rows


def lambda_cold_starts(url: str, keys: stack.Keys, k: Knobs) -> list[dict]:
    """The packaged Lambda path (issue 6's cold-start target): each zip unpacked alone, a fresh
    Python that sees only it, `import main` and the first `handler(event, context)`."""
    from deploy import cold_start

    token = keys.token(700_001)
    events = {
        "add_item": cold_start.http_event("/add-item", {"product_id": 8}, token),
        "remove_item": cold_start.http_event("/remove-item", {"product_id": 8}, token),
        "checkout": cold_start.http_event("/checkout", {}, token),
    }
    env = {k: v for k, v in stack.server_env(url, keys).items() if not k.startswith("PYTHON")}
    # remove-item and checkout answer 200 only with something in the cart: the first add of
    # each run leaves one unit there, and add-item runs first.
    stack.post(stack.OURS["add_item"], token, {"product_id": 8, "quantity": 2 * k.cold_runs})
    with tempfile.TemporaryDirectory(prefix="bench-lambda-") as tmp:
        rows = cold_start.measure(events, env, k.cold_runs, Path(tmp))
    for row in rows:
        heavy = ", ".join(f"{n} {s:.2f}" for n, s in row["heaviest"])
        print(
            f"  {row['function']:11} lambda    import {row['import_ms'] / 1000:.2f} s,"
            f" spawn to first answer {row['process_ms'] / 1000:.2f} s"
            f" (HTTP {row['status']}; {heavy})",
            flush=True,
        )
    return rows
