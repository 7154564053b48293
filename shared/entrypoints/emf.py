"""CloudWatch Embedded Metric Format: an invocation's figures as members of its one log line.

CloudWatch Logs turns such a line into metrics by itself (no API call, no agent): `_aws` names
the namespace, the dimension sets and each metric's unit, and the values are members of the line
beside it. AWS Lambda Powertools builds the document: `EphemeralMetrics`, one per invocation
(its `Metrics` keeps one set for the whole process, which a threaded server's requests would
share). It never prints here: the wrapper logs the document in the line it writes anyway.

Every figure is published twice: by `function`, and by `function` and `outcome` (the status and
the error code: "200 ok", "409 insufficient_stock", "503 busy_try_again").
"""

from __future__ import annotations

from aws_lambda_powertools.metrics import EphemeralMetrics

from shared import errors, logs, metrics

_BUSY = errors.ERROR_TABLE[errors.Busy].code


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
    document = EphemeralMetrics(namespace=namespace)
    document.add_dimension(name="function", value=function)
    document.add_dimension(name="outcome", value=outcome(status, code))
    document.add_dimensions(function=function)
    for name, value in figures.items():
        document.add_metric(name=name, unit=metrics.UNITS[name], value=value)
    fields = dict(document.serialize_metric_set())
    fields[logs.EMF_METADATA] = fields.pop("_aws")  # logs.py writes it as `_aws`
    return fields
