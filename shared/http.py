"""The one HTTP wrapper every function uses.

In order: correlation id, CORS, method, body size, auth, JSON, validation, the idempotency key,
the command, and the mapping of every failure to a status and a stable error code. Whatever goes
wrong, the caller gets JSON with the correlation id and never a stack trace.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from typing import Callable

import flask
import pydantic

from shared import auth, db, idempotency, logs
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
    db.Busy: (503, "busy_try_again"),
    idempotency.IdempotencyKeyReused: (422, "idempotency_key_reused"),
}
# Refusals a command reached the database for: the stored answer of an idempotency key.
_STORED_REFUSALS = (ProductNotFound, ItemNotInCart, InsufficientStock, CartEmpty)
# Seconds a client should wait before retrying a busy database (lock or statement timeout).
_BUSY_RETRY_AFTER = "1"
_ALLOWED_HEADERS = "Authorization, Content-Type, X-Correlation-ID, Idempotency-Key"
_EXPOSED_HEADERS = "X-Correlation-ID, Idempotent-Replayed, Retry-After"


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, **details):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


# `command(user, body, key)`; key is None when the request has no Idempotency-Key.
Command = Callable[[auth.User, pydantic.BaseModel, idempotency.IdempotencyKey | None], dict]


def command_endpoint(name: str, schema: type[pydantic.BaseModel]):
    """Turn `command(user, body, key) -> dict` into a functions-framework HTTP function."""
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
                status, payload, headers = _run(request, name, schema, command, cid)
                response = flask.Response(json.dumps(payload), status, mimetype="application/json")
                response.headers.update(headers)
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


def job_endpoint(name: str):
    """Turn a scheduled job `job() -> dict` into an HTTP function, the scheduler's trigger.

    Any method is accepted (schedulers differ); the answer is the job's summary as JSON, or the
    error table's status and code, with the correlation id like every answer.
    """
    logs.configure(log_level())

    def decorate(job: Callable[[], dict]) -> Callable[[flask.Request], flask.Response]:
        @functools.wraps(job)
        def endpoint(request: flask.Request) -> flask.Response:
            cid = logs.begin_invocation(name, request.headers.get("X-Correlation-ID"))
            try:
                status, payload = 200, job()
            except (db.DatabaseUnavailable, db.Busy) as error:
                status, code = _table_entry(error)
                log.error("%s: %s", code, error)
                payload = _error_body(code, str(error), cid)
            except Exception:
                log.exception("unhandled error")
                status, payload = 500, _error_body("internal", "internal error", cid)
            log.info("%s %s -> %d", request.method, name, status, extra={"status": status})
            response = flask.Response(json.dumps(payload), status, mimetype="application/json")
            response.headers["X-Correlation-ID"] = cid
            return response

        return endpoint

    return decorate


def _run(request: flask.Request, name: str, schema, command: Command, cid: str):
    """(status, payload, extra headers) for one request."""
    try:
        if request.method != "POST":
            raise ApiError(405, "method_not_allowed", "use POST")
        raw = _read_body(request)
        user = auth.authenticate(request.headers.get("Authorization"))
        body = _validate(schema, raw)
        key = _idempotency_key(request, name, user, body)
        return 200, command(user, body, key), {}
    except ApiError as error:
        return error.status, _error_body(error.code, error.message, cid, error.details), {}
    except idempotency.Replayed as replay:
        stored = replay.response
        return (
            stored.status,
            _with_correlation_id(stored.body, cid),
            {idempotency.REPLAYED_HEADER: "true"},
        )
    except tuple(ERROR_TABLE) as error:
        status, code = _table_entry(error)
        if status >= 500:
            log.error("%s: %s", code, error)
        headers = {"Retry-After": _BUSY_RETRY_AFTER} if isinstance(error, db.Busy) else {}
        return status, _error_body(code, str(error), cid), headers
    except Exception:
        log.exception("unhandled error")
        return 500, _error_body("internal", "internal error", cid), {}


def _idempotency_key(
    request: flask.Request, name: str, user: auth.User, body: pydantic.BaseModel
) -> idempotency.IdempotencyKey | None:
    try:
        value = idempotency.parse(request.headers.get(idempotency.HEADER))
    except idempotency.InvalidIdempotencyKey as error:
        raise ApiError(400, "invalid_idempotency_key", str(error))
    if value is None:
        return None
    fingerprint = idempotency.fingerprint(user.id, name, body.model_dump_json())
    return idempotency.IdempotencyKey(value, fingerprint, _stored_refusal)


def _stored_refusal(error: Exception) -> idempotency.StoredResponse | None:
    """How a refusal is stored under an idempotency key: its status, code and message."""
    if not isinstance(error, _STORED_REFUSALS):
        return None
    status, code = _table_entry(error)
    return idempotency.StoredResponse(status, {"error": {"code": code, "message": str(error)}})


def _with_correlation_id(body: dict, cid: str) -> dict:
    """A stored error body answers with this request's correlation id, like every error."""
    if "error" not in body:
        return body
    error = dict(body["error"])
    return _error_body(error.pop("code"), error.pop("message"), cid, error)


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
