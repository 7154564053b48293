"""The local stand-in for CloudWatch: the functions' figures, read from their own log lines.

Every invocation logs one line with its figures in CloudWatch's Embedded Metric Format
(shared/entrypoints/emf.py). On AWS, CloudWatch Logs extracts them; here the stack reads each
function's stderr (devstack/stack.py) and feeds every line to `Figures`, which keeps the last
minute of them and sums since the start, for the gateway's /ops page.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field

WINDOW_SECONDS = 60
_FLAGS = ("server_errors", "busy", "throttled")


@dataclass
class _Invocation:
    at: float  # time.time()
    outcome: str
    values: dict[str, float]


@dataclass
class _Function:
    recent: deque[_Invocation] = field(default_factory=deque)
    totals: Counter[str] = field(default_factory=Counter)  # since the stack started
    last: dict[str, float] = field(default_factory=dict)  # the latest value of each figure
    last_at: float | None = None


class Figures:
    """Thread-safe: one reader thread per function process feeds it, the gateway reads it."""

    def __init__(self, clock=time.time):
        self._clock = clock
        self._lock = threading.Lock()
        self._functions: dict[str, _Function] = {}
        self._started = clock()

    def feed(self, line: bytes | str) -> None:
        """One log line; anything but an EMF document (or not JSON at all) is ignored."""
        if b'"_aws"' not in (line if isinstance(line, bytes) else line.encode()):
            return
        try:
            document = json.loads(line)
            directive = document["_aws"]["CloudWatchMetrics"][0]
            function = document["function"]
            values = {m["Name"]: _one(document[m["Name"]]) for m in directive["Metrics"]}
        except (ValueError, KeyError, IndexError, TypeError):
            return
        now = self._clock()
        with self._lock:
            figures = self._functions.setdefault(function, _Function())
            figures.recent.append(_Invocation(now, str(document.get("outcome", "")), values))
            figures.totals.update({"invocations": 1, **values})
            figures.last.update(values)
            figures.last_at = now

    def snapshot(self) -> dict:
        """What the /ops page shows: per function, the last minute and the totals."""
        now = self._clock()
        with self._lock:
            functions = {}
            for name, figures in sorted(self._functions.items()):
                while figures.recent and figures.recent[0].at < now - WINDOW_SECONDS:
                    figures.recent.popleft()
                functions[name] = _summary(figures, now)
        return {
            "window_seconds": WINDOW_SECONDS,
            "uptime_seconds": round(now - self._started),
            "functions": functions,
        }


def _one(value) -> float:
    """EMF allows a number or a list of numbers; a line of ours carries one of each."""
    return float(value[-1] if isinstance(value, list) else value)


def _summary(figures: _Function, now: float) -> dict:
    recent = list(figures.recent)
    count = len(recent)
    durations = sorted(i.values["duration_ms"] for i in recent if "duration_ms" in i.values)
    lock_waits = sorted(i.values["lock_wait_ms"] for i in recent if "lock_wait_ms" in i.values)
    per_second = [0] * WINDOW_SECONDS
    for invocation in recent:
        age = int(now - invocation.at)
        if 0 <= age < WINDOW_SECONDS:
            per_second[WINDOW_SECONDS - 1 - age] += 1
    return {
        "requests": count,
        "requests_per_second": round(count / WINDOW_SECONDS, 2),
        "per_second": per_second,  # oldest first
        "p50_ms": _percentile(durations, 50),
        "p99_ms": _percentile(durations, 99),
        "lock_wait_p99_ms": _percentile(lock_waits, 99),
        "shares": {
            flag: round(sum(i.values.get(flag, 0) for i in recent) / count, 4) if count else 0
            for flag in _FLAGS
        },
        "outcomes": dict(Counter(i.outcome for i in recent).most_common()),
        "window": {
            name: round(sum(i.values.get(name, 0) for i in recent), 2)
            for name in ("retries", "units_taken", "released_carts", "released_units")
        },
        "totals": {name: round(value, 2) for name, value in sorted(figures.totals.items())},
        "last": {name: round(value, 2) for name, value in sorted(figures.last.items())},
        "seconds_since_last": None if figures.last_at is None else round(now - figures.last_at),
    }


def _percentile(ordered: list[float], percent: int) -> float | None:
    """Nearest-rank percentile, as CloudWatch reports pNN for a small sample."""
    if not ordered:
        return None
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return round(ordered[rank - 1], 1)
