"""Cold start: spawn to first 200, and what importing the function costs (`-X importtime`).

Each spawn is a fresh interpreter on a free port answering a real request (token check and a
database transaction included), so the figure covers import, server start, first connection
and first query. The port is polled every 5 ms; the server is stopped right after.
"""

from __future__ import annotations

import http.client
import json
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
    seconds: float
    heaviest: list[tuple[str, float]]  # top-level package, seconds of its own modules


def first_200_seconds(command: list[str], env: dict, path: str, token: str, body: dict) -> float:
    """From spawn to the first 200 answer to POST `path` on COLD_PORT."""
    payload = json.dumps(body)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
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


def _wall_import_seconds(module: str, env: dict) -> float:
    code = (
        "import time; started = time.perf_counter(); import "
        + module
        + "; print(time.perf_counter() - started)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    return float(result.stdout.split()[-1])


def import_cost(module: str, env: dict, runs: int = 3) -> ImportCost:
    """Median wall-clock import of `module` in a fresh interpreter, and its three heaviest
    top-level packages by their modules' own time under `-X importtime` (which slows imports,
    so its total is not the figure)."""
    seconds = statistics.median(_wall_import_seconds(module, env) for _ in range(runs))
    at_startup = {name.strip() for _, _, name in _importtime("pass", env)}
    packages: dict[str, float] = defaultdict(float)
    for own, _, name in _importtime(f"import {module}", env):
        if name.strip() not in at_startup:
            packages[name.strip().split(".")[0]] += own / 1e6
    heaviest = sorted(packages.items(), key=lambda item: -item[1])[:3]
    return ImportCost(seconds, heaviest)
