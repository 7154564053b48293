"""The one HTTP wrapper every function uses.

In order: correlation id, CORS, method, body size, auth, JSON, validation, the command, and
the mapping of every failure to a status and a stable error code. Whatever goes wrong, the
caller gets JSON with the correlation id and never a stack trace.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from typing import Callable

import flask
import pydantic

from shared import auth, db, logs
from shared.config import ConfigurationError, log_level, settings
from shared.domain import (
    CartEmpty,
    DomainError,
    InsufficientStock,
    InvalidQuantity,
    ItemNotInCart,
    ProductNotFound,
)

log = logging.getLogger("shared.http")

# The error table: every failure a caller can see, with its status and stable code.
ERROR_TABLE: dict[type[Exception], tuple[int, str]] = {
    InvalidQuantity: (422, "validation_error"),
    ProductNotFound: (404, "product_not_found"),
    ItemNotInCart: (404, "item_not_in_cart"),
    InsufficientStock: (409, "insufficient_stock"),
    CartEmpty: (409, "cart_empty"),
    DomainError: (409, "rule_violated"),
    auth.Unauthorized: (401, "unauthorized"),
    db.DatabaseUnavailable: (503, "database_unavailable"),
    ConfigurationError: (503, "configuration_error"),
}
_ALLOWED_HEADERS = "Authorization, Content-Type, X-Correlation-ID, Idempotency-Key"
_EXPOSED_HEADERS = "X-Correlation-ID"


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, **details):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


Command = Callable[[auth.User, pydantic.BaseModel], dict]


def command_endpoint(name: str, schema: type[pydantic.BaseModel]):
    """Turn `command(user, body) -> dict` into a functions-framework HTTP function."""
    logs.configure(log_level())

    def decorate(command: Command) -> Callable[[flask.Request], flask.Response]:
        @functools.wraps(command)
        def endpoint(request: flask.Request) -> flask.Response:
            started = time.perf_counter()
            cid = logs.begin_invocation(
                name, request.headers.get("X-Correlation-ID"), _platform_request_id(request)
            )
            if request.method == "OPTIONS":
                response = flask.Response(status=204)
            else:
                status, payload = _run(request, schema, command, cid)
                response = flask.Response(json.dumps(payload), status, mimetype="application/json")
                if status == 405:
                    response.headers["Allow"] = "POST, OPTIONS"
            response.headers["X-Correlation-ID"] = cid
            _add_cors_headers(request, response)
            log.info(
                "%s %s -> %d",
                request.method,
                name,
                response.status_code,
                extra={
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
            return response

        return endpoint

    return decorate


def _run(request: flask.Request, schema, command: Command, cid: str) -> tuple[int, dict]:
    try:
        if request.method != "POST":
            raise ApiError(405, "method_not_allowed", "use POST")
        raw = _read_body(request)
        user = auth.authenticate(request.headers.get("Authorization"))
        body = _validate(schema, raw)
        return 200, command(user, body)
    except ApiError as error:
        return error.status, _error_body(error.code, error.message, cid, error.details)
    except tuple(ERROR_TABLE) as error:
        status, code = _table_entry(error)
        if status >= 500:
            log.error("%s: %s", code, error)
        return status, _error_body(code, str(error), cid)
    except Exception:
        log.exception("unhandled error")
        return 500, _error_body("internal", "internal error", cid)


def _table_entry(error: Exception) -> tuple[int, str]:
    """The error table's row for `error`, or for the nearest class it inherits from."""
    for cls in type(error).__mro__:
        if cls in ERROR_TABLE:
            return ERROR_TABLE[cls]
    raise LookupError(type(error))


def _read_body(request: flask.Request) -> bytes:
    limit = settings().max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, "payload_too_large", f"body exceeds {limit} bytes")
    raw = request.stream.read(limit + 1)
    if len(raw) > limit:
        raise ApiError(413, "payload_too_large", f"body exceeds {limit} bytes")
    return raw


def _validate(schema: type[pydantic.BaseModel], raw: bytes) -> pydantic.BaseModel:
    if not raw.strip():
        raw = b"{}"
    try:
        return schema.model_validate_json(raw)
    except pydantic.ValidationError as error:
        problems = error.errors(include_url=False, include_input=False)
        if problems[0]["type"] == "json_invalid":
            raise ApiError(400, "invalid_json", "request body is not valid JSON")
        fields = [
            {"field": ".".join(map(str, p["loc"])) or "body", "message": p["msg"]} for p in problems
        ]
        raise ApiError(
            422,
            "validation_error",
            f"{fields[0]['field']}: {fields[0]['message']}",
            field=fields[0]["field"],
            fields=fields,
        )


def _platform_request_id(request: flask.Request) -> str | None:
    """API Gateway's own request id (set by the Lambda adapter), so its logs and ours line up."""
    return request.environ.get("apig_wsgi.request_context", {}).get("requestId")


def _error_body(code: str, message: str, cid: str, details: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "correlation_id": cid, **(details or {})}}


def _add_cors_headers(request: flask.Request, response: flask.Response) -> None:
    origin = request.headers.get("Origin")
    response.vary.add("Origin")
    try:
        allowed = settings().allowed_origins
    except ConfigurationError:
        return  # already answered 503; no origin is known to be allowed
    if not origin or not (origin in allowed or "*" in allowed):
        return
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Access-Control-Expose-Headers"] = _EXPOSED_HEADERS
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = _ALLOWED_HEADERS
        response.headers["Access-Control-Max-Age"] = "600"
