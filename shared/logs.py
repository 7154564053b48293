"""JSON logs where every line carries the invocation's correlation id.

The id lives in a ContextVar so that every logger in the call stack (ours, SQLAlchemy's) picks
it up without it being passed around.
"""

from __future__ import annotations

import logging
import re
import sys
import uuid
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter

# CloudWatch's Embedded Metric Format puts its metadata in a member named `_aws`, and the JSON
# formatter leaves out every extra field whose name starts with `_`: so it travels as `aws` and
# is renamed on the way out (shared/entrypoints/emf.py).
EMF_METADATA = "aws"

_correlation_id: ContextVar[str] = ContextVar("correlation_id", default="-")
_function_name: ContextVar[str] = ContextVar("function_name", default="-")

# Anything else (newlines, control characters, huge values) is replaced so logs cannot be forged.
# `=`, `+` and `/` because API Gateway's request ids are base64.
SAFE_ID = re.compile(r"[A-Za-z0-9._:=+/-]{1,128}")


def begin_invocation(function_name: str, *incoming_ids: str | None) -> str:
    """Adopt the first safe id offered (the caller's, then the platform's), else mint one."""
    safe = (i for i in incoming_ids if i and SAFE_ID.fullmatch(i))
    cid = next(safe, None) or str(uuid.uuid4())
    _correlation_id.set(cid)
    _function_name.set(function_name)
    return cid


def correlation_id() -> str:
    return _correlation_id.get()


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is now (test runners swap it), not what it was at start."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = _correlation_id.get()
        record.function = _function_name.get()
        return True


def configure(level: str = "INFO") -> None:
    """Send every record as one JSON line to stderr, at `level`; safe to call more than once
    (the handler is added once, the level is the latest one asked for)."""
    root = logging.getLogger()
    if not any(getattr(h, "_shop_json", False) for h in root.handlers):
        handler = _StderrHandler()
        handler._shop_json = True
        handler.addFilter(_ContextFilter())
        handler.setFormatter(
            JsonFormatter(
                "{levelname}{name}{message}{function}{correlation_id}",
                style="{",
                rename_fields={"levelname": "level", "name": "logger", EMF_METADATA: "_aws"},
                timestamp=True,
            )
        )
        root.addHandler(handler)
    root.setLevel(level)
    # SQL statements appear at DEBUG, tagged like everything else.
    logging.getLogger("sqlalchemy.engine").setLevel(
        logging.INFO if level == "DEBUG" else logging.WARNING
    )
