"""The figures of one invocation, gathered while it runs and logged once, with its log line.

The entrypoints start a collection per invocation (`begin`) and write it out with the one line
they log for it (shared/entrypoints/emf.py turns it into CloudWatch's Embedded Metric Format);
the layers below only add to it, without knowing who reads it: the session times the statements
that take row locks, the unit of work counts retries, the add use case counts the units it took.
A ContextVar, like the correlation id in logs.py, keeps the requests of a threaded server apart.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

# Every figure the functions emit, with its CloudWatch unit: the dashboard, the alarms and the
# local /ops page read these names (tests/ops/ checks serverless.yml uses no other).
UNITS = {
    # every invocation
    "duration_ms": "Milliseconds",
    "requests": "Count",
    "server_errors": "Count",  # 1 for a 5xx answer, else 0: its average is the 5xx rate
    "busy": "Count",  # 1 for 503 busy_try_again, else 0
    "throttled": "Count",  # 1 for 429, else 0
    "lock_wait_ms": "Milliseconds",  # see Session.lock (shared/adapters/postgres/connection.py)
    "retries": "Count",
    # add-item
    "units_taken": "Count",
    # release-expired-carts
    "released_carts": "Count",
    "released_units": "Count",
    "deleted_idempotency_keys": "Count",
    # relay-outbox
    "events_sent": "Count",
    "events_failed": "Count",
    "outbox_pending": "Count",
    "outbox_oldest_pending_s": "Seconds",
}

_figures: ContextVar[dict[str, float] | None] = ContextVar("metrics", default=None)


def begin() -> None:
    """Start this invocation's figures (a thread keeps its context between requests)."""
    _figures.set({})


def add(name: str, value: float) -> None:
    """Add to a figure of this invocation; outside one (a test, a script) it goes nowhere."""
    if name not in UNITS:
        raise KeyError(f"unknown metric {name!r}: add it to shared/metrics.py UNITS")
    figures = _figures.get()
    if figures is not None:
        figures[name] = figures.get(name, 0) + value


@contextmanager
def timed(name: str) -> Iterator[None]:
    """Add the block's wall-clock milliseconds to `name`, whether it raises or not."""
    started = time.perf_counter()
    try:
        yield
    finally:
        add(name, (time.perf_counter() - started) * 1000)


def collected() -> dict[str, float]:
    return dict(_figures.get() or {})
