"""`make bench` (`python -m bench`): the shop measured on its worst moment, beside a baseline.

Starts what it needs (embedded PostgreSQL, a bench database seeded with 1,000 products and
ES256 tokens, the three functions under functions-framework on 18081-18083 and the FastAPI
baseline on 18091), then runs: hot, spread, checkout and the pgbench ceiling for both
implementations; hot with product 1 in 8 buckets; sold out; overload; the sweep at drop scale;
cold start (functions-framework, and each packaged Lambda zip alone in a bare Python); then,
with the database 1 ms away (bench/delay_proxy.c), hot at N = 1, 2, 4, 8, 16 buckets beside
pgbench through the same delay. Exchanges per command are counted first. Prints a table, the
targets with the figures measured, and writes bench/results/.

The functions run with the drop's limits off (RATE_LIMIT_PER_MINUTE=0, CART_MAX_LINES=0,
CART_MAX_UNITS=0), except "overload, rate limit on", which measures the rate limit.

Knobs (environment): BENCH_SECONDS (measured seconds per run, default 10), BENCH_WARMUP (3),
BENCH_CLIENTS (32), BENCH_COLD_RUNS (5), BENCH_ONLY (comma list of hot, spread, checkout,
ceiling, buckets, sold_out, overload, sweep, hop, exchanges, cold), BENCH_HOP_MS (the delay
per exchange, 1; 0 skips the delayed scenarios), BENCH_BUCKETS (the Ns of the curve,
"1 2 4 8 16"), BENCH_OVERLOAD_CLIENTS (256), BENCH_DROP_CARTS (100000), and the functions'
server setting WORKERS, THREADS, DB_POOL_SIZE.
"""

from __future__ import annotations

import os
import platform
import sys
import time
import warnings

from bench import report, scenarios, stack
from bench.delay_proxy import DelayProxy
from devstack.stack import FUNCTION_SERVER_SETTINGS

# The functions' server setting the bench runs: the one `make run` uses (docs/performance.md).
SERVER_SETTINGS = FUNCTION_SERVER_SETTINGS
EVERYTHING = (
    "hot",
    "spread",
    "checkout",
    "ceiling",
    "buckets",
    "sold_out",
    "overload",
    "sweep",
    "hop",
    "exchanges",
    "cold",
)


def knobs() -> scenarios.Knobs:
    env = os.environ
    return scenarios.Knobs(
        seconds=float(env.get("BENCH_SECONDS") or 10),
        warmup=float(env.get("BENCH_WARMUP") or 3),
        clients=int(env.get("BENCH_CLIENTS") or 32),
        cold_runs=int(env.get("BENCH_COLD_RUNS") or 5),
        hop_ms=float(env.get("BENCH_HOP_MS") or 1),
        buckets=tuple(int(n) for n in (env.get("BENCH_BUCKETS") or "1 2 4 8 16").split()),
        overload_clients=int(env.get("BENCH_OVERLOAD_CLIENTS") or 256),
        drop_carts=int(env.get("BENCH_DROP_CARTS") or 100_000),
    )


def header(k: scenarios.Knobs, settings: dict) -> list[str]:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    setting = " ".join(f"{k}={v}" for k, v in settings.items())
    limits_off = " ".join(f"{k}={v}" for k, v in stack.LIMITS_OFF.items())
    limits_on = " ".join(f"{k}={v}" for k, v in scenarios.RATE_LIMIT_ON.items())
    return [
        "# make bench",
        "",
        f"- {time.strftime('%Y-%m-%d %H:%M %Z')}, {os.cpu_count()} cores shared by the load"
        f" generator, the servers and PostgreSQL (load average before start: {load});"
        f" Python {platform.python_version()}",
        f"- {k.clients} clients, {k.warmup:g} s warm-up then {k.seconds:g} s measured per run;"
        f" ours: functions-framework (gunicorn gthread) with {setting}; baseline: FastAPI +"
        " SQLAlchemy ORM under uvicorn defaults (1 worker)",
        f"- the drop's limits are off in the functions' environment ({limits_off}), except in"
        f" 'overload, rate limit on' ({limits_on})",
        f"- '{k.hop_ms:g} ms' scenarios: every answer of the database held {k.hop_ms:g} ms by"
        " bench/delay_proxy.c (ours, the baseline and pgbench alike); 'proxy CPU' is its CPU"
        " time per second of the run",
    ]


def main() -> int:
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    k = knobs()
    only = [s.strip() for s in os.environ.get("BENCH_ONLY", ",".join(EVERYTHING)).split(",")]
    settings = {name: os.environ.get(name) or value for name, value in SERVER_SETTINGS.items()}
    head = header(k, settings)
    print("\n".join(head), flush=True)
    result: dict = {"settings": settings, "knobs": vars(k), "load": [], "notes": []}
    failures: list[str] = []
    started = time.monotonic()

    def record(outcome: tuple[list[dict], list[str]]) -> None:
        rows, failed = outcome
        result["load"].extend(rows)
        failures.extend(failed)

    with stack.bench_database() as url:
        keys = stack.Keys()
        tokens = keys.tokens_file(stack.USERS)
        if "exchanges" in only:
            print("exchanges per command (wire proxy)...", flush=True)
            result["exchanges"] = scenarios.exchanges(url, keys, k)
        with stack.running(url, keys, settings):
            if "hot" in only or "buckets" in only:
                record(scenarios.add_items(url, tokens, "hot", k, only=("ours",), buckets=1))
            if "buckets" in only:
                n, with_ceiling = scenarios.LOOPBACK_BUCKETS, "ceiling" in only
                record(scenarios.hot_in_buckets(url, tokens, k, n, with_ceiling))
            if "hot" in only:
                record(scenarios.add_items(url, tokens, "hot", k, only=("baseline",)))
            if "spread" in only:
                record(scenarios.add_items(url, tokens, "spread", k))
            if "checkout" in only:
                record(scenarios.checkout(url, keys, k))
            if "ceiling" in only:
                record(scenarios.ceilings(url, k))
            if "cold" in only:
                print("cold start...", flush=True)
                result["cold"] = scenarios.cold_starts(url, keys, settings, k)
                print("cold start, packaged Lambda path...", flush=True)
                result["lambda_cold"] = scenarios.lambda_cold_starts(url, keys, k)
            if "sold_out" in only:
                result["sold_out"], failed = scenarios.sold_out(url, keys, k)
                failures.extend(failed)
            if "overload" in only:
                label = f"overload, {k.overload_clients} clients"
                record(scenarios.overload(url, tokens, k, label))
            if "sweep" in only:
                result["drop_sweep"], failed = scenarios.sweep_at_drop_scale(url, keys, tokens, k)
                failures.extend(failed)
        if "overload" in only:
            rate_limited = {**settings, **scenarios.RATE_LIMIT_ON}
            with stack.running(url, keys, rate_limited, baseline=False):
                label = f"overload, {k.overload_clients} clients, rate limit on"
                record(scenarios.overload(url, tokens, k, label))
        if ("hop" in only or "buckets" in only) and k.hop_ms > 0:
            delayed(url, keys, tokens, settings, k, only, record)
    scenarios.with_fractions(result["load"])
    minutes = (time.monotonic() - started) / 60
    result["minutes"] = minutes
    result["notes"] = [
        f"The whole run took {minutes:.1f} min; load average at the end:"
        f" {', '.join(f'{x:.2f}' for x in os.getloadavg())}.",
        "Exchanges: client write bursts sent after the server answered (bench/wire_proxy.py);"
        " 'while a row lock is held' counts those after the first FOR UPDATE was answered, up to"
        " and including COMMIT. Statements include BEGIN and COMMIT.",
        "Non-2xx counts socket errors too. 'load' is the 1-minute load average when the measured"
        " run started. Figures are noisy when anything else runs on the machine: compare rows"
        " within one run.",
        *(f"CHECK FAILED: {f}" for f in failures),
    ]
    print()
    print(report.write(stack.RESULTS, head, result))
    print(f"written: {stack.RESULTS}/bench.md, bench.json, bench.png, bench_buckets.png")
    return 1 if failures else 0


def delayed(url: str, keys, tokens, settings: dict, k: scenarios.Knobs, only, record) -> None:
    """Hot with the database a hop away (bench/delay_proxy.c): N = 1 for ours, the baseline
    and pgbench, then the bucket curve, ours beside pgbench at each N."""
    ms = f"{k.hop_ms:g} ms"
    print(f"hot with {ms} per exchange (delay proxy)...", flush=True)
    with DelayProxy.for_url(url, k.hop_ms / 1000) as proxy:
        meter, through = proxy.cpu_seconds, proxy.url(url)
        with stack.running(through, keys, settings, baseline="hop" in only):
            which = ("ours", "baseline") if "hop" in only else ("ours",)
            label = f"hot, {ms}"
            extra = {"buckets": 1, "delay_ms": k.hop_ms}
            record(scenarios.add_items(url, tokens, "hot", k, label, which, meter, **extra))
            record(scenarios.ceilings(through, k, ("hot",), label, meter, **extra))
            if "buckets" in only:
                for n in (n for n in k.buckets if n > 1):
                    label, extra = f"hot, {ms}, {n} buckets", {"buckets": n, "delay_ms": k.hop_ms}
                    stack.set_buckets(url, 1, n)
                    record(
                        scenarios.add_items(url, tokens, "hot", k, label, ("ours",), meter, **extra)
                    )
                    record(scenarios.ceilings(through, k, ("hot",), label, meter, **extra))
                stack.set_buckets(url, 1, 1)


if __name__ == "__main__":
    sys.exit(main())
