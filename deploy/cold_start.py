"""Cold start of each Lambda package: a fresh Python that sees only the unpacked zip, timed
through `import main` and the first `handler(event, context)` (a real add-item or checkout
against the development database, or an unauthenticated call with --no-database).

    python -m deploy.cold_start [--runs 5] [--dist DIR] [--no-database]

The zips are built for this interpreter's version (their .pyc must load here), unless --dist
gives ready ones. `make bench` prints these figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path

from deploy import package

_PROBE = """
import time
started = time.perf_counter()
import json, sys
sys.path.insert(0, {folder!r})
import main
imported = time.perf_counter()
event = json.loads({event!r})
result = main.handler(event, None)
answered = time.perf_counter()
print(json.dumps({{"import_ms": (imported - started) * 1000, "first_call_ms":
    (answered - imported) * 1000, "status": result["statusCode"], "modules": len(sys.modules)}}))
"""


def http_event(path: str, body: dict, token: str | None) -> dict:
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    return {
        "version": "2.0",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "http": {
                "method": "POST",
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "10.0.0.1",
            },
            "requestId": uuid.uuid4().hex,
        },
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


def run_once(folder: Path, event: dict, env: dict) -> dict:
    started = time.perf_counter()
    ran = subprocess.run(
        [
            sys.executable,
            "-I",
            "-S",
            "-c",
            _PROBE.format(folder=str(folder), event=json.dumps(event)),
        ],
        capture_output=True,
        text=True,
        cwd=folder,
        env=env,
        check=True,
    )
    figures = json.loads(ran.stdout.splitlines()[-1])
    figures["process_ms"] = (time.perf_counter() - started) * 1000
    return figures


def heaviest_imports(folder: Path, env: dict, top: int = 3) -> list[tuple[str, float]]:
    """The `top` top-level packages whose own modules take longest to import (`-X importtime`),
    in a fresh Python that sees only `folder`; the least of three runs per package."""
    probe = f"import sys; sys.path.insert(0, {str(folder)!r}); import main"
    least: dict[str, float] = {}
    for _ in range(3):
        ran = subprocess.run(
            [sys.executable, "-I", "-S", "-X", "importtime", "-c", probe],
            capture_output=True,
            text=True,
            cwd=folder,
            env=env,
            check=True,
        )
        own: dict[str, float] = {}
        for line in ran.stderr.splitlines():
            if line.startswith("import time:") and "self [us]" not in line:
                micros, _, name = line.removeprefix("import time:").split("|", 2)
                package = name.strip().split(".")[0]
                own[package] = own.get(package, 0.0) + int(micros) / 1e6
        for package, seconds in own.items():
            least[package] = min(seconds, least.get(package, seconds))
    return sorted(least.items(), key=lambda item: -item[1])[:top]


def measure(
    events: dict[str, dict],
    env: dict,
    runs: int,
    workdir: Path,
    dist: Path | None = None,
    before_each: Callable[[str], None] | None = None,
) -> list[dict]:
    """Per function: medians over `runs` fresh processes that see only its unpacked zip.
    `before_each(name)`, when given, runs before each of them (to refill a cart, say)."""
    if dist is None:
        dist = workdir / "dist"
        version = f"{sys.version_info.major}.{sys.version_info.minor}"
        package.build(tuple(events), dist, version)
    rows = []
    for name, event in events.items():
        folder = workdir / name
        with zipfile.ZipFile(dist / f"{name}.zip") as archive:
            archive.extractall(folder)
        samples = []
        for _ in range(runs):
            if before_each:
                before_each(name)
            samples.append(run_once(folder, event, env))
        median = {
            k: statistics.median(r[k] for r in samples)
            for k in ("import_ms", "first_call_ms", "process_ms")
        }
        rows.append(
            {
                "function": name,
                **median,
                "status": samples[-1]["status"],
                "modules": samples[-1]["modules"],
                "heaviest": heaviest_imports(folder, env),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--dist", type=Path, help="ready zips (built for this Python)")
    parser.add_argument("--no-database", action="store_true")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    token = None
    if not args.no_database:
        from devstack import database, devkeys, run

        jwk = devkeys.load_or_create(run.KEY_FILE)
        env.update(
            DATABASE_URL=database.functions_url(run.prepare_database()),
            JWT_JWKS=json.dumps(devkeys.public_jwks(jwk)),
        )
        token = devkeys.mint_token(jwk, uuid.uuid4())
    events = {
        "add_item": http_event("/add-item", {"product_id": 4}, token),
        "remove_item": http_event("/remove-item", {"product_id": 4}, token),
        "checkout": http_event("/checkout", {}, token),
    }
    print(f"cold start, median of {args.runs} fresh processes (Python {sys.version.split()[0]})")
    with tempfile.TemporaryDirectory(prefix="cold-start-") as tmp:
        for row in measure(events, env, args.runs, Path(tmp), args.dist):
            heavy = ", ".join(f"{n} {s * 1000:.0f} ms" for n, s in row["heaviest"])
            print(
                f"  {row['function']:12} import {row['import_ms']:6.1f} ms   first call "
                f"{row['first_call_ms']:6.1f} ms (HTTP {row['status']})   whole process "
                f"{row['process_ms']:6.1f} ms   {row['modules']} modules   heaviest: {heavy}"
            )


if __name__ == "__main__":
    main()
