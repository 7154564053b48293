"""What the bench runs against: its own seeded database and the two implementations under test.

The database is created on the embedded server (or DATABASE_URL's) for this run and dropped
after it. Ours runs as `make run` does, one functions-framework process per function; the
baseline runs as one uvicorn process serving the three routes.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from devstack import database, devkeys
from devstack.stack import wait_until_listening
from functions import registry
from shared.adapters.postgres.connection import pg8000_url

ROOT = database.ROOT
RESULTS = ROOT / "bench" / "results"
HOST = "127.0.0.1"
FUNCTIONS = tuple(f.name for f in registry.COMMANDS)
OUR_PORTS = {name: 18081 + i for i, name in enumerate(FUNCTIONS)}
BASELINE_PORT = 18091
PRODUCTS = 1000
STOCK = 1_000_000  # large enough that no scenario ever runs a product out
USERS = 1000  # users 1..200 are the hot scenario's, 1..1000 the spread scenario's
HOT_USERS = 200
# Products of their own (seeded with no stock) for the scenarios that set their stock: sold out
# and the sweep at drop scale. Hot is product 1, the buckets scenarios change its N.
SOLD_OUT_PRODUCT = PRODUCTS + 1
DROP_PRODUCT = PRODUCTS + 2
# The bench measures throughput, so the functions run with the drop's limits off (issue 10):
# 0 turns each off. Only "overload, rate limit on" turns the rate limit back on.
LIMITS_OFF = {"RATE_LIMIT_PER_MINUTE": "0", "CART_MAX_LINES": "0", "CART_MAX_UNITS": "0"}


def user_id(n: int) -> uuid.UUID:
    """Bench user n, a UUID that SQL can build too (pgbench scripts do)."""
    return uuid.UUID(f"00000000-0000-4000-8000-{n:012d}")


@contextlib.contextmanager
def bench_database():
    """A fresh, migrated and seeded database for this run; dropped afterwards."""
    server = database.server_url()
    name = f"shop_bench_{os.getpid()}"
    url = database.create_database(server, name)
    try:
        database.apply_sql(url)
        with admin(url) as conn:
            conn.execute(text("truncate products cascade"))
            conn.execute(
                text(
                    "insert into products (id, name, price_cents, stock)"
                    " select g, 'bench product ' || g, 100 + mod(g, 900), :stock"
                    " from generate_series(1, :n) g"
                ),
                {"stock": STOCK, "n": PRODUCTS},
            )
            conn.execute(
                text(
                    "insert into products (id, name, price_cents, stock)"
                    " values (:sold_out, 'bench sold out', 100, 0),"
                    " (:drop, 'bench drop sweep', 100, 0)"
                ),
                {"sold_out": SOLD_OUT_PRODUCT, "drop": DROP_PRODUCT},
            )
        yield url
    finally:
        database.drop_database(server, name)


@contextlib.contextmanager
def admin(url: str):
    engine = create_engine(pg8000_url(url), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def units(url: str, product: int | None = None) -> dict[str, int]:
    """Where the units are (of every product, or of one): left in stock (over all buckets),
    held in carts, sold in orders; and the server's WAL position in bytes (`wal`), so a
    scenario can tell how much WAL its adds wrote."""
    with admin(url) as conn:
        row = conn.execute(
            text(
                "select (select coalesce(sum(stock), 0) from products"
                "        where id = cast(:p as bigint) or cast(:p as bigint) is null)"
                " + (select coalesce(sum(units), 0) from product_stock_buckets"
                "    where product_id = cast(:p as bigint) or cast(:p as bigint) is null),"
                " (select coalesce(sum(quantity), 0) from cart_items"
                "  where product_id = cast(:p as bigint) or cast(:p as bigint) is null),"
                " (select coalesce(sum(quantity), 0) from order_items"
                "  where product_id = cast(:p as bigint) or cast(:p as bigint) is null),"
                " pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')"
            ),
            {"p": product},
        ).one()
    return {
        "stock": int(row[0]),
        "in_carts": int(row[1]),
        "ordered": int(row[2]),
        "wal": int(row[3]),
    }


def database_cpu_seconds() -> float | None:
    """CPU time (user + system) the embedded PostgreSQL has used so far: its postmaster, the
    backends still running, and those it has reaped. None when the bench runs against another
    server (DATABASE_URL), whose processes this machine may not see."""
    pid_file = database.DATA_DIR / "pg" / "postmaster.pid"
    if os.environ.get("DATABASE_URL") or not pid_file.exists():
        return None
    postmaster = int(pid_file.read_text().split()[0])
    ticks = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        if int(entry.name) == postmaster:  # its own time, and its reaped children's
            ticks += sum(int(f) for f in fields[11:15])
        elif int(fields[1]) == postmaster:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def machine_cpu_ticks() -> tuple[int, int] | None:
    """(busy, all) clock ticks of every core since boot, from /proc/stat; None off Linux.

    The share busy over a run tells a CPU-bound figure from one bound by locks or delays: on
    2 cores wrk, the functions, the proxy and PostgreSQL all draw from the same two."""
    try:
        first = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    except OSError:
        return None
    # user nice system idle iowait irq softirq steal (guest time is already inside user)
    ticks = [int(f) for f in first[1:9]]
    return sum(ticks) - ticks[3] - ticks[4], sum(ticks)


def set_stock(url: str, product: int, units: int, buckets: int | None = None) -> None:
    """The operators' way (sql/16_stock_buckets.sql), as the owner: `units` available, spread
    over `buckets` (None: N unchanged)."""
    with admin(url) as conn:
        conn.execute(
            text(
                "select public.set_product_stock(cast(:p as bigint), cast(:u as integer),"
                " cast(:n as integer))"
            ),
            {"p": product, "u": units, "n": buckets},
        )


def set_buckets(url: str, product: int, buckets: int) -> None:
    """Spread what `product` has available over `buckets`; nothing is added or lost.

    Requests that wrk left in flight may still be adding: the product's rows are locked (in
    the global order) before its stock is read, by a later statement, so none slips between."""
    product, buckets = int(product), int(buckets)  # formatted into the block below
    with admin(url) as conn:
        conn.execute(text(f"""do $$ declare available integer; begin
                  perform from products where id = {product} for no key update;
                  perform from product_stock_buckets where product_id = {product}
                    order by bucket for no key update;
                  select stock into available from product_catalog where id = {product};
                  perform public.set_product_stock({product}, available, {buckets});
                end $$"""))


@dataclass
class Keys:
    private_jwk: dict = field(default_factory=devkeys.generate_private_jwk)

    @property
    def jwks(self) -> str:
        return json.dumps(devkeys.public_jwks(self.private_jwk))

    def token(self, n: int) -> str:
        return devkeys.mint_token(self.private_jwk, user_id(n), ttl_seconds=4 * 3600)

    def tokens_file(self, count: int) -> Path:
        """Tokens of users 1..count, one a line, for the wrk scripts."""
        RESULTS.mkdir(parents=True, exist_ok=True)
        path = RESULTS / "tokens.txt"
        path.write_text("".join(self.token(n) + "\n" for n in range(1, count + 1)))
        return path


@dataclass(frozen=True)
class Target:
    """Where an implementation answers one function: port and path."""

    port: int
    path: str

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}{self.path}"


OURS = {name: Target(port, "/") for name, port in OUR_PORTS.items()}
BASELINE = {name: Target(BASELINE_PORT, f"/{name}") for name in FUNCTIONS}


def server_env(url: str, keys: Keys, functions: bool = True, **extra: str) -> dict:
    """Ours log in as shop_functions, as deployed; the baseline (not ours) as the owner.
    The drop's limits are off unless `extra` turns one on."""
    return {
        **os.environ,
        **LIMITS_OFF,
        "DATABASE_URL": database.functions_url(url) if functions else url,
        "JWT_JWKS": keys.jwks,
        "PYTHONPATH": str(ROOT),
        **extra,
    }


def our_command(function: str, port: int) -> list[str]:
    source = registry.named(function).source
    return [
        sys.executable,
        "-m",
        "functions_framework",
        f"--target={function}",
        f"--source={source}",
        f"--host={HOST}",
        f"--port={port}",
    ]


def baseline_command(port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "bench.baseline_fastapi.app:app",
        f"--host={HOST}",
        f"--port={port}",
    ]


def spawn(command: list[str], env: dict, log_name: str) -> subprocess.Popen:
    with open(RESULTS / "logs" / f"{log_name}.log", "ab") as log:  # the child keeps its own copy
        return subprocess.Popen(command, env=env, stdout=log, stderr=log, cwd=ROOT)


@contextlib.contextmanager
def running(
    url: str,
    keys: Keys,
    server_settings: dict[str, str],
    baseline: bool = True,
):
    """Ours (with `server_settings` in its environment) and the baseline, until the block ends."""
    (RESULTS / "logs").mkdir(parents=True, exist_ok=True)
    ours_env = server_env(url, keys, **server_settings)
    processes = [spawn(our_command(n, p), ours_env, f"ours-{n}") for n, p in OUR_PORTS.items()]
    ports = list(OUR_PORTS.values())
    if baseline:
        processes.append(
            spawn(baseline_command(BASELINE_PORT), server_env(url, keys, False), "baseline")
        )
        ports.append(BASELINE_PORT)
    try:
        for port, process in zip(ports, processes, strict=True):
            wait_until_listening(port, process)
        time.sleep(0.5)
        exited = [" ".join(p.args[-3:]) for p in processes if p.poll() is not None]
        if exited:  # most likely a port already taken by another server
            raise RuntimeError(f"server exited at start (see {RESULTS}/logs): {exited}")
        yield processes
    finally:
        stop(processes)


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def post(target: Target, token: str, body: dict, timeout: float = 10) -> tuple[int, dict]:
    request = urllib.request.Request(
        target.url,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")
