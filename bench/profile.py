"""`python -m bench.profile [hot|spread]`: where add-item's CPU goes per request, under load.

py-spy samples the running add_item function (all its gunicorn processes, only threads on the
CPU) while wrk drives the scenario; each sample is charged to the part of the stack that owns
it, and the totals are divided by the requests served. Standard-library frames (socket,
threading, json, logging) are charged to the code that called them, except that json and
logging called from our own code count as JSON and logging.
"""

from __future__ import annotations

import collections
import os
import re
import subprocess
import sys
import warnings

from bench import load, stack
from bench.__main__ import SERVER_SETTINGS, knobs
from bench.scenarios import SHAPES

RATE = 200  # samples per second
# (category, module path prefixes as py-spy prints them) checked from the innermost frame
# outwards; the first match wins.
STRONG = [
    ("JWT verify", ("jwt/", "cryptography/", "shared/entrypoints/auth.py")),
    ("JSON + validation", ("pydantic", "shared/entrypoints/schemas.py")),
    ("metrics (EMF)", ("shared/metrics.py", "shared/entrypoints/emf.py")),
    ("logging", ("pythonjsonlogger/", "shared/logs.py")),
    ("driver + socket", ("pg8000/", "scramp/")),
    ("SQLAlchemy", ("sqlalchemy/",)),
    ("Flask + gunicorn", ("flask/", "werkzeug/", "gunicorn/", "functions_framework/", "click/")),
    ("our code", ("shared/", "functions/")),
]
WEAK = [("JSON + validation", ("json/",)), ("logging", ("logging/",))]
_FILE = re.compile(r"\(([^()]+):\d+\)$")
# py-spy runs with --full-filenames (by default it shortens our own modules to a bare
# "http.py", which no prefix can place); each path is cut back to what the tables name.
_ROOTS = ("site-packages/", f"{os.path.dirname(os.__file__)}/", f"{stack.ROOT}/")


def _short(path: str) -> str:
    for root in _ROOTS:
        head, found, tail = path.rpartition(root)
        if found:
            return tail
    return path


def _category(frames: list[str]) -> str:
    weak = None
    for frame in reversed(frames):  # innermost first
        found = _FILE.search(frame)
        if not found:
            continue  # the "process N: command line" frames py-spy puts first
        path = _short(found.group(1))
        for name, prefixes in STRONG:
            if path.startswith(prefixes):
                return weak if (weak and name == "our code") else name
        if weak is None:
            weak = next((n for n, p in WEAK if path.startswith(p)), None)
    return weak or "other (interpreter, threading)"


def categorize(raw: str) -> collections.Counter:
    samples: collections.Counter = collections.Counter()
    for line in raw.splitlines():
        stack_text, _, count = line.rpartition(" ")
        if stack_text:
            samples[_category(stack_text.split(";"))] += int(count)
    return samples


def main() -> None:
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    scenario = sys.argv[1] if len(sys.argv) > 1 else "hot"
    k = knobs()
    settings = {n: os.environ.get(n) or v for n, v in SERVER_SETTINGS.items()}
    users, products = SHAPES[scenario]
    raw_path = stack.RESULTS / f"profile-{scenario}.txt"
    with stack.bench_database() as url:
        keys = stack.Keys()
        tokens = keys.tokens_file(stack.USERS)
        with stack.running(url, keys, settings, baseline=False) as processes:
            target = stack.OURS["add_item"]
            load.wrk_add_items(target, tokens, users, products, k.clients, k.warmup)
            spy = subprocess.Popen(
                [
                    os.path.join(os.path.dirname(sys.executable), "py-spy"),
                    "record",
                    "--pid",
                    str(processes[0].pid),  # add_item's gunicorn arbiter
                    "--subprocesses",
                    "--nonblocking",
                    "--gil",  # only the thread holding the GIL: Python CPU, not socket waits
                    "--format=raw",
                    "--full-filenames",
                    f"--rate={RATE}",
                    f"--duration={round(k.seconds)}",
                    f"--output={raw_path}",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            result = load.wrk_add_items(target, tokens, users, products, k.clients, k.seconds)
            spy.wait()
    samples = categorize(raw_path.read_text())
    total = sum(samples.values())
    per_request = 1000 / RATE / result.requests
    print(f"{scenario}: {result.rate:.0f} req/s with {settings}; {total} samples")
    print("| part | CPU ms per request | share |")
    print("|---|---:|---:|")
    for name, count in samples.most_common():
        print(f"| {name} | {count * per_request:.2f} | {100 * count / total:.0f}% |")
    print(f"| total (add_item process) | {total * per_request:.2f} | 100% |")


if __name__ == "__main__":
    main()
