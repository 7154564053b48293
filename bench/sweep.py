"""`python -m bench.sweep`: hot and spread for ours under several server settings.

How the WORKERS/THREADS/DB_POOL_SIZE that `make bench` uses were chosen. Same database, load
and knobs as `make bench` (BENCH_SECONDS, BENCH_WARMUP, BENCH_CLIENTS); BENCH_SETTINGS picks
the settings to try, e.g. "1/8/2 1/8/8 2/4/4" (workers/threads/pool size).
"""

from __future__ import annotations

import os
import warnings

from bench import load, stack
from bench.__main__ import knobs
from bench.scenarios import SHAPES

DEFAULT_SETTINGS = "1/8/2 1/8/8 1/16/16 2/4/4 2/8/8"


def main() -> None:
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    k = knobs()
    print(f"{os.cpu_count()} cores shared by wrk, the server and PostgreSQL; {k.clients} clients")
    print(
        "| WORKERS | THREADS | DB_POOL_SIZE | hot req/s | hot p99 ms | spread req/s | spread p99 ms |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    with stack.bench_database() as url:
        keys = stack.Keys()
        tokens = keys.tokens_file(stack.USERS)
        for setting in os.environ.get("BENCH_SETTINGS", DEFAULT_SETTINGS).split():
            workers, threads, pool = setting.split("/")
            settings = {"WORKERS": workers, "THREADS": threads, "DB_POOL_SIZE": pool}
            cells = [workers, threads, pool]
            with stack.running(url, keys, settings, baseline=False):
                for scenario in ("hot", "spread"):
                    users, products = SHAPES[scenario]
                    target = stack.OURS["add_item"]
                    for seconds in (k.warmup, k.seconds):
                        result = load.wrk_add_items(
                            target, tokens, users, products, k.clients, seconds
                        )
                    cells += [f"{result.rate:.0f}", f"{result.p99_ms:.0f}"]
            print("| " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
