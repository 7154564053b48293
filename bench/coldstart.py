"""Cold start: spawn to first 200, and what importing the function costs (`-X importtime`).

Each spawn is a fresh interpreter on a free port answering a real request (token check and a
database transaction included), so the figure covers import, server start, first connection
and first query. The port is polled every 5 ms; the server is stopped right after.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass

from bench.stack import HOST, ROOT, Target

COLD_PORT = 18099


@dataclass
class ImportCost:
    seconds: float  # wall clock
    cpu_seconds: float  # the process's CPU time: what a busy machine distorts least
    heaviest: list[tuple[str, float]]  # top-level package, seconds of its own modules


def first_200_seconds(command: list[str], env: dict, path: str, token: str, body: dict) -> float:
    """From spawn to the first 200 answer to POST `path` on COLD_PORT."""
    payload = json.dumps(body)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    with contextlib.suppress(OSError), socket.create_connection((HOST, COLD_PORT), timeout=1):
        # Another server (another bench on this machine?) would answer in the new one's place.
        raise RuntimeError(f"port {COLD_PORT} is already taken: cold start cannot be measured")
    started = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        while time.perf_counter() - started < 60:
            try:
                connection = http.client.HTTPConnection(HOST, COLD_PORT, timeout=10)
                connection.request("POST", path, payload, headers)
                status = connection.getresponse().status
                connection.close()
            except OSError:
                time.sleep(0.005)
                continue
            if status != 200:
                raise RuntimeError(f"cold start answered {status}")
            return time.perf_counter() - started
        raise TimeoutError("no answer within 60 s")
    finally:
        process.terminate()
        process.wait(timeout=10)


def median_first_200(runs: int, command, env, target: Target, token: str, body, before=None):
    times = []
    for _ in range(runs):
        if before:
            before()
        times.append(first_200_seconds(command, env, target.path, token, body))
    return statistics.median(times)


def _importtime(code: str, env: dict) -> list[tuple[int, int, str]]:
    """(self µs, cumulative µs, module with its nesting indent) for each import `code` makes."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    rows = []
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, cumulative, name = line.removeprefix("import time:").split("|", 2)
        rows.append((int(own), int(cumulative), name.rstrip()))
    return rows


def _import_seconds(module: str, env: dict) -> tuple[float, float]:
    """(wall, CPU) seconds that `import module` takes in a fresh interpreter."""
    code = (
        "import time; wall, cpu = time.perf_counter(), time.process_time(); import "
        + module
        + "; print(time.perf_counter() - wall, time.process_time() - cpu)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    wall, cpu = result.stdout.split()[-2:]
    return float(wall), float(cpu)


def import_cost(module: str, env: dict, runs: int = 5) -> ImportCost:
    """Median import time of `module` in a fresh interpreter, and its three heaviest top-level
    packages by their modules' own time under `-X importtime` (which slows imports, so its
    total is not the figure)."""
    samples = [_import_seconds(module, env) for _ in range(runs)]
    wall = statistics.median(w for w, _ in samples)
    cpu = statistics.median(c for _, c in samples)
    at_startup = {name.strip() for _, _, name in _importtime("pass", env)}
    runs_by_package: dict[str, list[float]] = defaultdict(list)
    for _ in range(3):
        packages: dict[str, float] = defaultdict(float)
        for own, _, name in _importtime(f"import {module}", env):
            if name.strip() not in at_startup:
                packages[name.strip().split(".")[0]] += own / 1e6
        for package, seconds in packages.items():
            runs_by_package[package].append(seconds)
    # The least of three runs: what the import costs when nothing else takes the core.
    packages = {package: min(times) for package, times in runs_by_package.items()}
    heaviest = sorted(packages.items(), key=lambda item: -item[1])[:3]
    return ImportCost(wall, cpu, heaviest)
