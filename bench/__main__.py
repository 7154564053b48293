"""`make bench` (`python -m bench`): the shop measured on its worst moment, beside a baseline.

Starts what it needs (embedded PostgreSQL, a bench database seeded with 1,000 products and
ES256 tokens, the three functions under functions-framework on 18081-18083 and the FastAPI
baseline on 18091), then runs, each for both implementations: hot, spread, checkout, the pgbench
ceiling, exchanges per command and cold start (functions-framework, and each packaged
Lambda zip alone in a bare Python). Prints a table and writes bench/results/.

Knobs (environment): BENCH_SECONDS (measured seconds per run, default 10), BENCH_WARMUP (3),
BENCH_CLIENTS (32), BENCH_COLD_RUNS (5), BENCH_ONLY (comma list of hot, spread, checkout,
ceiling, hop, exchanges, cold), BENCH_HOP_MS (the hop scenario's delay per exchange, 1),
and the functions' server setting WORKERS, THREADS, DB_POOL_SIZE.
"""

from __future__ import annotations

import os
import platform
import sys
import time
import warnings

from bench import report, scenarios, stack
from bench.wire_proxy import WireProxy
from devstack.stack import FUNCTION_SERVER_SETTINGS

# The functions' server setting the bench runs: the one `make run` uses (docs/performance.md).
SERVER_SETTINGS = FUNCTION_SERVER_SETTINGS
EVERYTHING = ("hot", "spread", "checkout", "ceiling", "hop", "exchanges", "cold")


def knobs() -> scenarios.Knobs:
    env = os.environ
    return scenarios.Knobs(
        seconds=float(env.get("BENCH_SECONDS") or 10),
        warmup=float(env.get("BENCH_WARMUP") or 3),
        clients=int(env.get("BENCH_CLIENTS") or 32),
        cold_runs=int(env.get("BENCH_COLD_RUNS") or 5),
        hop_ms=float(env.get("BENCH_HOP_MS") or 1),
    )


def header(k: scenarios.Knobs, settings: dict) -> list[str]:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    setting = " ".join(f"{k}={v}" for k, v in settings.items())
    return [
        "# make bench",
        "",
        f"- {time.strftime('%Y-%m-%d %H:%M %Z')}, {os.cpu_count()} cores shared by the load"
        f" generator, the servers and PostgreSQL (load average before start: {load});"
        f" Python {platform.python_version()}",
        f"- {k.clients} clients, {k.warmup:g} s warm-up then {k.seconds:g} s measured per run;"
        f" ours: functions-framework (gunicorn gthread) with {setting}; baseline: FastAPI +"
        " SQLAlchemy ORM under uvicorn defaults (1 worker)",
    ]


def main() -> int:
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    k = knobs()
    only = [s.strip() for s in os.environ.get("BENCH_ONLY", ",".join(EVERYTHING)).split(",")]
    settings = {name: os.environ.get(name) or value for name, value in SERVER_SETTINGS.items()}
    head = header(k, settings)
    print("\n".join(head), flush=True)
    result: dict = {"settings": settings, "load": [], "notes": []}
    failures: list[str] = []
    with stack.bench_database() as url:
        keys = stack.Keys()
        tokens = keys.tokens_file(stack.USERS)
        if "exchanges" in only:
            print("exchanges per command (wire proxy)...", flush=True)
            result["exchanges"] = scenarios.exchanges(url, keys, k)
        with stack.running(url, keys, settings):
            for scenario in ("hot", "spread"):
                if scenario in only:
                    rows, failed = scenarios.add_items(url, tokens, scenario, k)
                    result["load"] += rows
                    failures += failed
            if "checkout" in only:
                result["load"] += scenarios.checkout(url, keys, k)
            if "ceiling" in only:
                result["load"] += scenarios.ceilings(url, k)
            if "cold" in only:
                print("cold start...", flush=True)
                result["cold"] = scenarios.cold_starts(url, keys, settings, k)
                print("cold start, packaged Lambda path...", flush=True)
                result["lambda_cold"] = scenarios.lambda_cold_starts(url, keys, k)
        if "hop" in only and k.hop_ms > 0:
            # hot again with the database a network hop away: every exchange waits hop_ms.
            print(f"hot with {k.hop_ms:g} ms per exchange (wire proxy)...", flush=True)
            with WireProxy.for_url(url, k.hop_ms / 1000) as proxy:
                with stack.running(proxy.url(url), keys, settings):
                    label = f"hot, {k.hop_ms:g} ms hop"
                    rows, failed = scenarios.add_items(url, tokens, "hot", k, label)
                    result["load"] += rows
                    failures += failed
                if "ceiling" in only:
                    result["load"] += scenarios.ceilings(proxy.url(url), k, ("hot",), label)
    scenarios.with_fractions(result["load"])
    result["notes"] = [
        "Exchanges: client write bursts sent after the server answered (bench/wire_proxy.py);"
        " 'while a row lock is held' counts those after the first FOR UPDATE was answered, up to"
        " and including COMMIT. Statements include BEGIN and COMMIT.",
        "Non-2xx counts socket errors too. Figures are noisy when anything else runs on the"
        " machine: compare ours and the baseline within one run.",
        *(f"CHECK FAILED: {f}" for f in failures),
    ]
    print()
    print(report.write(stack.RESULTS, head, result))
    print(f"written: {stack.RESULTS}/bench.md, bench.json, bench.png")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
