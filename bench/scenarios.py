"""The scenarios, each for ours and (where it applies) the baseline: warm up, measure for a
fixed time, check that no unit was lost or doubled."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

from bench import ceiling, coldstart, drop_sweep, load, stack
from bench.exchanges import BUCKETS_PRODUCT as EXCHANGES_BUCKETS_PRODUCT
from bench.load import Result


@dataclass(frozen=True)
class Knobs:
    seconds: float
    warmup: float
    clients: int
    cold_runs: int
    hop_ms: float = 1.0
    buckets: tuple[int, ...] = (1, 2, 4, 8, 16)
    overload_clients: int = 256
    drop_carts: int = 100_000


def implementations(knobs: Knobs) -> dict[str, dict[str, stack.Target]]:
    return {"ours": stack.OURS, "baseline": stack.BASELINE}


SHAPES = {  # scenario -> (users drawn from, products drawn from)
    "hot": (stack.HOT_USERS, 1),
    "spread": (stack.USERS, stack.PRODUCTS),
}
LOOPBACK_BUCKETS = 8  # "loopback hot at N = 8 no slower than at N = 1"
SOLD_OUT_UNITS, SOLD_OUT_BUCKETS = 500, 8
DROP_BUCKETS, DROP_TOTAL = 8, 1_000_000
RATE_LIMIT_ON = {"RATE_LIMIT_PER_MINUTE": "60", "RATE_LIMIT_BURST": "10"}  # the defaults

# A meter reads a proxy's CPU seconds so far: a delayed scenario's rows say what it cost.
Meter = Callable[[], float]


def row(scenario: str, implementation: str, result: Result, note: str = "", **extra) -> dict:
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
        **extra,
    }


def shares(statuses: dict[str, int]) -> str:
    """Each kind of answer as a share of all: '200 64.1%, 429 rate_limited 35.9%'."""
    total = sum(statuses.values())
    parts = sorted(statuses.items(), key=lambda item: (-item[1], item[0]))
    return ", ".join(f"{key} {100 * n / total:.1f}%" for key, n in parts) if total else ""


def _measured(run: Callable[[float], Result], knobs: Knobs, meter: Meter | None) -> dict:
    """Warm-up, then the measured run; with the load average at its start, the share of the
    machine's cores busy over it and, when metered, the proxy's CPU (seconds per second)."""
    run(knobs.warmup)
    load_average, cpu = os.getloadavg()[0], meter() if meter else 0.0
    ticks = stack.machine_cpu_ticks()
    result = run(knobs.seconds)
    extra = {"load": load_average}
    if ticks and (after := stack.machine_cpu_ticks()) and after[1] > ticks[1]:
        extra["cores_busy"] = (after[0] - ticks[0]) / (after[1] - ticks[1])
    if meter:
        extra["proxy_cpu"] = (meter() - cpu) / result.seconds if result.seconds else 0.0
    return {"result": result, "extra": extra}


def wal_per_add(before: dict, after: dict, taken: int) -> float:
    """WAL the server wrote between two `stack.units` readings, per unit taken (each add here
    takes 1): what a drop's adds cost the primary's WAL, and its replicas and archive."""
    return (after["wal"] - before["wal"]) / taken if taken > 0 else 0.0


def database_cpu_per_add(before: float | None, taken: int) -> dict:
    """The database's CPU milliseconds per unit taken since `before` (empty when unknown)."""
    after = stack.database_cpu_seconds()
    if before is None or after is None or taken <= 0:
        return {}
    return {"db_cpu_ms_per_add": 1000 * (after - before) / taken}


def adds(
    url: str,
    target: stack.Target,
    tokens: Path,
    shape: tuple[int, int],
    knobs: Knobs,
    label: str,
    implementation: str,
    clients: int | None = None,
    meter: Meter | None = None,
    **extra,
) -> tuple[dict, list[str]]:
    """One add-item load (warm-up, then measured) and its check: stock taken (over all
    buckets) == units put in carts."""
    users, products = shape
    before, cpu_before = stack.units(url), stack.database_cpu_seconds()
    measured = _measured(
        lambda s: load.wrk_add_items(target, tokens, users, products, clients or knobs.clients, s),
        knobs,
        meter,
    )
    after = stack.units(url)
    result = measured["result"]
    taken, carted = before["stock"] - after["stock"], after["in_carts"] - before["in_carts"]
    # 2xx answers can be fewer than units taken: wrk stops with requests in flight that the
    # server completes but nobody reads. The invariant is that no unit is lost or doubled.
    ok = taken == carted
    check = f"stock taken {taken} {'=' if ok else '!='} units in carts {carted}"
    wal = wal_per_add(before, after, taken)
    cpu_used = database_cpu_per_add(cpu_before, taken)
    cpu_note = f", DB CPU {cpu_used['db_cpu_ms_per_add']:.2f} ms" if cpu_used else ""
    statuses = result.extra.get("statuses", {})
    refused = ", ".join(f"{k} {n}" for k, n in sorted(statuses.items()) if not k.startswith("2"))
    cpu, busy = measured["extra"].get("proxy_cpu"), measured["extra"].get("cores_busy")
    print(
        f"  {label:24} {implementation:9} {result.rate:7.0f} req/s  p99 {result.p99_ms:6.0f} ms"
        f"  {check}, WAL {wal / 1000:.1f} kB"
        f"{cpu_note} each"
        f" (non-2xx: {refused or 'none'};"
        f" socket errors {result.socket_errors})"
        f"{'' if cpu is None else f'; proxy CPU {cpu:.2f} s/s'}"
        f"{'' if busy is None else f'; cores busy {100 * busy:.0f}%'}"
        f"{'' if ok else '  CHECK FAILED'}",
        flush=True,
    )
    failures = [] if ok else [f"{label}/{implementation}: {check}"]
    return (
        row(
            label,
            implementation,
            result,
            "" if ok else "CHECK FAILED",
            wal_bytes_per_add=wal,
            **cpu_used,
            **measured["extra"],
            **extra,
        ),
        failures,
    )


def add_items(
    url: str,
    tokens: Path,
    scenario: str,
    knobs: Knobs,
    label: str | None = None,
    only: tuple[str, ...] = ("ours", "baseline"),
    meter: Meter | None = None,
    **extra,
) -> tuple[list[dict], list[str]]:
    """hot or spread for each implementation in `only`."""
    rows, failures = [], []
    for implementation, targets in implementations(knobs).items():
        if implementation in only:
            r, failed = adds(
                url,
                targets["add_item"],
                tokens,
                SHAPES[scenario],
                knobs,
                label or scenario,
                implementation,
                meter=meter,
                **extra,
            )
            rows.append(r)
            failures += failed
    return rows, failures


def hot_in_buckets(url: str, tokens: Path, knobs: Knobs, buckets: int, with_ceiling: bool):
    """Ours (and pgbench) on hot with product 1 spread over `buckets`, then back to one."""
    label = f"hot, {buckets} buckets"
    stack.set_buckets(url, 1, buckets)
    try:
        rows, failures = add_items(url, tokens, "hot", knobs, label, ("ours",), buckets=buckets)
        if with_ceiling:
            more, failed = ceilings(url, knobs, ("hot",), label, buckets=buckets)
            rows, failures = rows + more, failures + failed
        return rows, failures
    finally:
        stack.set_buckets(url, 1, 1)


def checkout(url: str, keys: stack.Keys, knobs: Knobs) -> tuple[list[dict], list[str]]:
    """Each client: add 3 random products, check out, again; both implementations. Stock taken
    == units put in carts + units ordered."""
    rows, failures = [], []
    for n, (implementation, targets) in enumerate(implementations(knobs).items()):
        tokens = [keys.token(10_000 * (n + 1) + i) for i in range(knobs.clients)]
        before = stack.units(url)
        measured = _measured(
            lambda s, targets=targets, tokens=tokens: load.checkout_flows(
                targets["add_item"], targets["checkout"], tokens, stack.PRODUCTS, s
            ),
            knobs,
            None,
        )
        after = stack.units(url)
        result = measured["result"]
        taken = before["stock"] - after["stock"]
        kept = after["in_carts"] - before["in_carts"] + after["ordered"] - before["ordered"]
        ok = taken == kept
        check = f"stock taken {taken} {'=' if ok else '!='} units in carts and orders {kept}"
        note = f"{result.extra['orders_per_s']:.0f} orders/s (3 adds + 1 checkout each)"
        print(
            f"  {'checkout':24} {implementation:9} {result.rate:7.0f} req/s  {note}; {check}"
            f"{'' if ok else '  CHECK FAILED'}",
            flush=True,
        )
        if not ok:
            failures.append(f"checkout/{implementation}: {check}")
            note += "; CHECK FAILED"
        rows.append(row("checkout", implementation, result, note, **measured["extra"]))
    return rows, failures


def ceilings(
    url: str,
    knobs: Knobs,
    shapes=tuple(SHAPES),
    label: str | None = None,
    meter: Meter | None = None,
    **extra,
) -> tuple[list[dict], list[str]]:
    """pgbench on the repository's own SQL, shaped like each scenario; same check as ours."""
    rows, failures = [], []
    for scenario in shapes:
        users, products = SHAPES[scenario]
        before, cpu_before = stack.units(url), stack.database_cpu_seconds()
        measured = _measured(
            lambda s, users=users, products=products: ceiling.pgbench(
                url, users, products, knobs.clients, s, extra.get("buckets", 1)
            ),
            knobs,
            meter,
        )
        after = stack.units(url)
        result, name = measured["result"], label or scenario
        taken, carted = before["stock"] - after["stock"], after["in_carts"] - before["in_carts"]
        ok = taken == carted and result.non_2xx == 0
        check = f"stock taken {taken} {'=' if taken == carted else '!='} units in carts {carted}"
        wal = wal_per_add(before, after, taken)
        cpu_used = database_cpu_per_add(cpu_before, taken)
        check += f", WAL {wal / 1000:.1f} kB"
        if cpu_used:
            check += f", DB CPU {cpu_used['db_cpu_ms_per_add']:.2f} ms"
        check += " each"
        cpu, busy = measured["extra"].get("proxy_cpu"), measured["extra"].get("cores_busy")
        print(
            f"  {name:24} {'ceiling':9} {result.rate:7.0f} tx/s   p99 {result.p99_ms:6.0f} ms"
            f"  {check}, failed transactions {result.non_2xx}"
            f"{'' if cpu is None else f'; proxy CPU {cpu:.2f} s/s'}"
            f"{'' if busy is None else f'; cores busy {100 * busy:.0f}%'}"
            f"{'' if ok else '  CHECK FAILED'}",
            flush=True,
        )
        if not ok:
            failures.append(f"{name}/ceiling: {check}, failed transactions {result.non_2xx}")
        note = "pgbench -M prepared, same SQL" + ("" if ok else "; CHECK FAILED")
        rows.append(
            row(
                name,
                "ceiling",
                result,
                note,
                wal_bytes_per_add=wal,
                **cpu_used,
                **measured["extra"],
                **extra,
            )
        )
    return rows, failures


def with_fractions(rows: list[dict]) -> list[dict]:
    """Note each HTTP scenario's throughput as a share of the pgbench ceiling for it."""
    top = {r["scenario"]: r["rate"] for r in rows if r["implementation"] == "ceiling"}
    for r in rows:
        if r["implementation"] != "ceiling" and top.get(r["scenario"]):
            share = f"{100 * r['rate'] / top[r['scenario']]:.0f}% of ceiling"
            r["note"] = "; ".join(filter(None, (share, r["note"])))
    return rows


def sold_out(url: str, keys: stack.Keys, knobs: Knobs) -> tuple[dict, list[str]]:
    """500 units in 8 buckets, 32 clients adding 1 each for random users until told
    insufficient_stock: exactly 500 succeed, the rest are 409, no 5xx, stock 0, 500 carted."""
    product = stack.SOLD_OUT_PRODUCT
    stack.set_stock(url, product, SOLD_OUT_UNITS, SOLD_OUT_BUCKETS)
    tokens = [keys.token(n) for n in range(1, stack.USERS + 1)]
    before = stack.units(url, product)
    result = load.sell_out(stack.OURS["add_item"], tokens, product, knobs.clients)
    after = stack.units(url, product)
    statuses = result.extra["statuses"]
    succeeded = sum(n for key, n in statuses.items() if key.startswith("2"))
    refused = sum(n for key, n in statuses.items() if key == "409 insufficient_stock")
    server_errors = sum(n for key, n in statuses.items() if key.startswith("5"))
    carted = after["in_carts"] - before["in_carts"]
    checks = {
        f"{SOLD_OUT_UNITS} succeed": succeeded == SOLD_OUT_UNITS,
        "the rest get 409 insufficient_stock": refused == result.requests - succeeded,
        "no 5xx": server_errors == 0,
        "stock ends at 0": after["stock"] == 0,
        f"{SOLD_OUT_UNITS} units in carts": carted == SOLD_OUT_UNITS,
    }
    failed = [what for what, ok in checks.items() if not ok]
    summary = {
        "units": SOLD_OUT_UNITS,
        "buckets": SOLD_OUT_BUCKETS,
        "clients": knobs.clients,
        "requests": result.requests,
        "seconds": result.seconds,
        "succeeded": succeeded,
        "statuses": statuses,
        "stock_after": after["stock"],
        "carted": carted,
        "p50_ms": result.p50_ms,
        "p99_ms": result.p99_ms,
        "failed_checks": failed,
    }
    print(
        f"  sold out: {SOLD_OUT_UNITS} units in {SOLD_OUT_BUCKETS} buckets, {knobs.clients}"
        f" clients, {result.requests} adds in {result.seconds:.1f} s: {shares(statuses)};"
        f" stock {after['stock']}, {carted} units in carts"
        f"{'' if not failed else '  CHECK FAILED: ' + ', '.join(failed)}",
        flush=True,
    )
    return summary, [f"sold out: {what}" for what in failed]


def overload(url: str, tokens: Path, knobs: Knobs, label: str) -> tuple[list[dict], list[str]]:
    """Hot with many more clients than the servers have threads: latency and refusals."""
    r, failures = adds(
        url,
        stack.OURS["add_item"],
        tokens,
        SHAPES["hot"],
        knobs,
        label,
        "ours",
        clients=knobs.overload_clients,
    )
    statuses = r.get("statuses", {})
    total = sum(statuses.values()) or 1
    named = ", ".join(
        f"{key} {100 * statuses.get(key, 0) / total:.1f}%"
        for key in ("503 busy_try_again", "429 rate_limited")
    )
    r["note"] = "; ".join(filter(None, (named, f"answers: {shares(statuses)}", r["note"])))
    print(f"    {named}", flush=True)
    return [r], failures


def sweep_at_drop_scale(
    url: str, keys: stack.Keys, tokens: Path, knobs: Knobs
) -> tuple[dict, list[str]]:
    """100,000 expired carts of one product (in buckets) released by one run of the sweep
    function while ours keeps adding that product: how long, adds/s before and during,
    and whether every unit is still accounted for."""
    product, carts = stack.DROP_PRODUCT, knobs.drop_carts
    print(f"  seeding {carts} expired carts of product {product}...", flush=True)
    drop_sweep.seed(url, product, carts, DROP_TOTAL, DROP_BUCKETS)
    target = stack.OURS["add_item"]
    users = stack.HOT_USERS

    def run(seconds: float) -> Result:
        return load.wrk_add_items(target, tokens, users, 1, knobs.clients, seconds, product)

    before = _measured(run, knobs, None)["result"]
    env = {**stack.server_env(url, keys), "LOG_LEVEL": "WARNING"}
    sweeper = subprocess.Popen(
        [sys.executable, "-W", "ignore", "-m", "bench.drop_sweep"],
        env=env,
        cwd=stack.ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    if sweeper.stdout.readline().strip() != "ready":
        raise RuntimeError("bench.drop_sweep did not start")
    load_average = os.getloadavg()[0]
    background = load.BackgroundAdds(target, tokens, users, 1, knobs.clients, product)
    time.sleep(0.5)  # wrk connected and adding
    sweeper.stdin.write("go\n")
    sweeper.stdin.flush()
    answer = json.loads(sweeper.stdout.readline())
    during = background.stop()
    sweeper.wait(timeout=30)
    units = stack.units(url, product)
    with stack.admin(url) as conn:  # leave the tables as the next scenarios expect them
        conn.execute(text("vacuum analyze carts, cart_items"))
    held = units["stock"] + units["in_carts"] + units["ordered"]
    conserved = held == DROP_TOTAL
    released_all = answer["released_carts"] >= carts and answer["finished"]
    summary = {
        "carts": carts,
        "buckets": DROP_BUCKETS,
        "seconds": answer["seconds"],
        "released_carts": answer["released_carts"],
        "released_units": answer["released_units"],
        "finished": answer["finished"],
        "released_all_in_one_run": released_all,
        "adds_per_s_before": before.rate,
        "adds_per_s_during": during.rate,
        "during_statuses": during.extra.get("statuses", {}),
        "conserved": conserved,
        "units_held": held,
        "units_total": DROP_TOTAL,
        "load": load_average,
    }
    print(
        f"  sweep at drop scale: {answer['released_carts']} of {carts} expired carts"
        f" ({answer['released_units']} units, {DROP_BUCKETS} buckets) released in"
        f" {answer['seconds']:.1f} s by one run (finished: {answer['finished']});"
        f" adds {before.rate:.0f}/s before, {during.rate:.0f}/s during;"
        f" stock + carts = {held} {'=' if conserved else '!='} {DROP_TOTAL}"
        f"{'' if conserved else '  CHECK FAILED'}",
        flush=True,
    )
    failures = [] if conserved else [f"sweep at drop scale: {held} units held of {DROP_TOTAL}"]
    return summary, failures


def exchanges(url: str, keys: stack.Keys, knobs: Knobs) -> dict:
    """Per command, ours and the baseline's; ours also adding a product kept in 8 buckets."""
    stack.set_buckets(url, EXCHANGES_BUCKETS_PRODUCT, LOOPBACK_BUCKETS)
    try:
        return _exchanges(url, keys)
    finally:
        stack.set_buckets(url, EXCHANGES_BUCKETS_PRODUCT, 1)


def _exchanges(url: str, keys: stack.Keys) -> dict:
    env = {
        **os.environ,
        **stack.LIMITS_OFF,
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

    def refill(function: str) -> None:  # each remove-item and checkout finds a unit to take
        if function != "add_item":
            stack.post(stack.OURS["add_item"], token, {"product_id": 8})

    with tempfile.TemporaryDirectory(prefix="bench-lambda-") as tmp:
        rows = cold_start.measure(events, env, k.cold_runs, Path(tmp), before_each=refill)
    for row in rows:
        heavy = ", ".join(f"{n} {s:.2f}" for n, s in row["heaviest"])
        print(
            f"  {row['function']:11} lambda    import {row['import_ms'] / 1000:.2f} s,"
            f" spawn to first answer {row['process_ms'] / 1000:.2f} s"
            f" (HTTP {row['status']}; {heavy})",
            flush=True,
        )
    return rows
