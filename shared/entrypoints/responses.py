"""JSON answers, the same for every trigger: a payload, or a failure from the error table."""

from __future__ import annotations

import json
import logging

from werkzeug.wrappers import Response

from shared import errors

log = logging.getLogger("shared.entrypoints")


def json_response(payload: dict, status: int = 200, headers: dict | None = None) -> Response:
    response = Response(json.dumps(payload), status, mimetype="application/json")
    response.headers.update(headers or {})
    return response


def error_code(payload: dict) -> str | None:
    """The `code` of an error body; None for any other payload."""
    error = payload.get("error")
    return error.get("code") if isinstance(error, dict) else None


def failure_answer(error: Exception, correlation_id: str) -> tuple[int, dict, dict]:
    """(status, body, headers) for any exception; an unexpected one is logged with its trace
    and answered 500 `internal` without a word of it."""
    failure = errors.failure_of(error)
    if failure is errors.INTERNAL:
        log.exception("unhandled error")
        return 500, errors.error_body(failure.code, "internal error", correlation_id), {}
    if failure.status >= 500:
        log.error("%s: %s", failure.code, error)
    details = getattr(error, "details", None)
    body = errors.error_body(failure.code, str(error), correlation_id, details)
    headers = {}
    retry_after = getattr(error, "retry_after_seconds", failure.retry_after_seconds)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return failure.status, body, headers
