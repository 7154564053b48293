"""What AWS Lambda Powertools' Metrics would add to a cold start of the packaged add_item.

    python -m bench.powertools_import [--runs 15] [--version 3.37.0]

Builds add_item's zip for this Python (as `make package` does), installs aws-lambda-powertools
and what it needs beside it the same way (manylinux wheels, unchecked-hash .pyc), then, in fresh
`python -I -S` processes that see only those folders, imports every library module `import main`
loads except Powertools' own (and botocore and jmespath, which only it brings; and not our own
modules, which may import it), then times `from aws_lambda_powertools.metrics import Metrics`
plus creating one: what main needs anyway is not counted, whether or not main uses Powertools. Twice: alone, and with botocore on the path as the Lambda runtime puts it
there (Powertools' package imports botocore whenever it can, to tag the SDK's user agent).
Issue 12's rule: use Powertools only if this stays under 50 ms; the figures and the decision are
in docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from deploy import package

POWERTOOLS = "3.37.0"  # the newest release when this was measured
LIMIT_MS = 50
_NOT_PRELOADED = ("aws_lambda_powertools", "botocore", "jmespath", "main", "shared", "__main__")
_MODULES_OF_MAIN = """
import json, sys
sys.path[:0] = {paths!r}
import main
print(json.dumps(sorted(sys.modules)))
"""
_PROBE = """
import importlib, json, sys, time
sys.path[:0] = {paths!r}
started = time.perf_counter()
for name in {preload!r}:
    try:
        importlib.import_module(name)
    except Exception:
        pass  # a module that only imports as part of its package: loaded with it
imported = time.perf_counter()
before = len(sys.modules)
from aws_lambda_powertools.metrics import Metrics
Metrics(namespace="ShoppingSystem", service="add_item")
done = time.perf_counter()
print(json.dumps({{"main_ms": (imported - started) * 1000,
                   "powertools_ms": (done - imported) * 1000,
                   "modules": len(sys.modules) - before}}))
"""


def install(target: Path, requirement: str, python_version: str, python: str) -> None:
    """`requirement` and what it needs, as `make package` installs (versions tested here)."""
    platforms = [arg for platform in package.PLATFORMS for arg in ("--platform", platform)]
    constraints = package.tested_versions(target.parent)
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        + ["--no-compile", "--target", str(target), "--implementation", "cp"]
        + ["--python-version", python_version, "--only-binary=:all:", *platforms]
        + [requirement, "--constraint", str(constraints)],
        check=True,
    )
    package.precompile(target, python)


def _median_of(runs: int, python: str, paths: list[str], cwd: Path) -> dict:
    listed = subprocess.run(
        [python, "-I", "-S", "-c", _MODULES_OF_MAIN.format(paths=paths)],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=True,
    )
    preload = [
        name
        for name in json.loads(listed.stdout.splitlines()[-1])
        if name.split(".")[0] not in _NOT_PRELOADED
    ]
    probe = _PROBE.format(paths=paths, preload=preload)
    samples = []
    for _ in range(runs):
        ran = subprocess.run(
            [python, "-I", "-S", "-c", probe], capture_output=True, text=True, cwd=cwd, check=True
        )
        samples.append(json.loads(ran.stdout.splitlines()[-1]))
    return {
        "main_ms": statistics.median(s["main_ms"] for s in samples),
        "powertools_ms": statistics.median(s["powertools_ms"] for s in samples),
        "powertools_min_ms": min(s["powertools_ms"] for s in samples),
        "modules": samples[-1]["modules"],
    }


def measure(runs: int, version: str) -> dict[str, dict]:
    python_version = f"{sys.version_info.major}.{sys.version_info.minor}"
    python = package.interpreter_for(python_version)
    with tempfile.TemporaryDirectory(prefix="powertools-") as tmp:
        work = Path(tmp)
        package.build(("add_item",), work / "dist", python_version)
        code = work / "add_item"
        with zipfile.ZipFile(work / "dist" / "add_item.zip") as archive:
            archive.extractall(code)
        (work / "powertools").mkdir()
        install(
            work / "powertools" / "lib", f"aws-lambda-powertools=={version}", python_version, python
        )
        (work / "runtime").mkdir()
        install(work / "runtime" / "lib", "botocore", python_version, python)
        paths = [str(code), str(work / "powertools" / "lib")]
        return {
            "alone": _median_of(runs, python, paths, code),
            "with the runtime's botocore": _median_of(
                runs, python, [*paths, str(work / "runtime" / "lib")], code
            ),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--version", default=POWERTOOLS)
    args = parser.parse_args()
    print(
        f"aws-lambda-powertools {args.version} on the packaged add_item (Python "
        f"{sys.version.split()[0]}, median of {args.runs} fresh processes; load "
        f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}):"
    )
    for case, figures in measure(args.runs, args.version).items():
        verdict = "under" if figures["powertools_ms"] < LIMIT_MS else "OVER"
        print(
            f"  {case}: main's libraries {figures['main_ms']:.0f} ms, then Metrics (import, one "
            f"instance) {figures['powertools_ms']:.1f} ms (least {figures['powertools_min_ms']:.1f}"
            f" ms, {figures['modules']} more modules): {verdict} the {LIMIT_MS} ms budget"
        )


if __name__ == "__main__":
    main()
