"""CloudWatch Embedded Metric Format: an invocation's figures as members of its one log line.

CloudWatch Logs turns such a line into metrics by itself (no API call, no agent): `_aws` names
the namespace, the dimension sets and each metric's unit, and the values are members of the line
beside it. The document is written here rather than by AWS Lambda Powertools' EphemeralMetrics,
which built the same line: its validation and enum lookups cost about 65 us per invocation
(about 2.5 % of an add's CPU in a drop) and its import 15 ms of a cold start, for a format of
five fixed keys (docs/operations.md). tests/ops/ checks every line against the specification.

Every figure is published twice: by `function`, and by `function` and `outcome` (the status and
the error code: "200 ok", "409 insufficient_stock", "503 busy_try_again").
"""

from __future__ import annotations

import time

from shared import errors, logs, metrics

_BUSY = errors.ERROR_TABLE[errors.Busy].code
DIMENSIONS = [["function", "outcome"], ["function"]]


def outcome(status: int, code: str | None) -> str:
    return f"{status} {code or 'ok'}"


def log_fields(
    function: str, namespace: str, status: int, code: str | None, duration_ms: float
) -> dict:
    """The extra fields of the invocation's log line: its figures and their `_aws` directive."""
    figures = {
        **metrics.collected(),
        "duration_ms": round(duration_ms, 2),
        "requests": 1,
        "server_errors": int(status >= 500),
        "busy": int(code == _BUSY),
        "throttled": int(status == 429),
    }
    directive = {
        "Namespace": namespace,
        "Dimensions": DIMENSIONS,
        "Metrics": [{"Name": name, "Unit": metrics.UNITS[name]} for name in figures],
    }
    return {
        "function": function,
        "outcome": outcome(status, code),
        **{name: [float(value)] for name, value in figures.items()},
        logs.EMF_METADATA: {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [directive],
        },
    }
