"""The one HTTP wrapper every command uses.

In order: correlation id, CORS, method, body size, auth, JSON, validation, the idempotency key,
the command, and the mapping of every failure to a status and a stable error code (the error
table, shared/errors.py). Whatever goes wrong, the caller gets JSON with the correlation id and
never a stack trace. Its one log line per request carries the request's figures as CloudWatch
metrics (shared/entrypoints/emf.py).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import pydantic
from werkzeug.wrappers import Request, Response

from shared import logs, metrics
from shared.config import log_level, metrics_namespace
from shared.entrypoints import auth, cors, emf, requests
from shared.entrypoints.contract import Contract
from shared.entrypoints.responses import error_code, failure_answer, json_response
from shared.errors import MethodNotAllowed
from shared.service import idempotency
from shared.service.idempotency import IdempotencyKey

log = logging.getLogger("shared.http")
Body = TypeVar("Body", bound=pydantic.BaseModel)


@dataclass(frozen=True)
class Call(Generic[Body]):
    """One authenticated, validated request, as a command receives it."""

    user: auth.User
    body: Body
    key: IdempotencyKey | None  # None when the request has no Idempotency-Key
    correlation_id: str


Command = Callable[[Call], dict]


def command_endpoint(
    name: str,
    schema: type[pydantic.BaseModel],
    answer: type[pydantic.BaseModel],
    refusals: tuple[type[Exception], ...] = (),
):
    """Turn `command(call) -> dict` into a functions-framework HTTP function.

    `answer` describes its 200 body and `refusals` the domain errors its use case may raise;
    both only feed the API document (`endpoint.contract`).
    """
    logs.configure(log_level())
    contract = Contract(name, answer, schema, refusals)
    namespace = metrics_namespace()

    def decorate(command: Command) -> Callable[[Request], Response]:
        @functools.wraps(command)
        def endpoint(request: Request) -> Response:
            started = time.perf_counter()
            cid = logs.begin_invocation(
                name,
                request.headers.get("X-Correlation-ID"),
                requests.platform_request_id(request),
            )
            metrics.begin()
            code = None
            if request.method == "OPTIONS":
                response = Response(status=204)
            else:
                status, payload, headers = _answer(request, name, schema, command, cid)
                response = json_response(payload, status, headers)
                code = error_code(payload)
            response.headers["X-Correlation-ID"] = cid
            cors.add_headers(request, response)
            status, duration_ms = response.status_code, (time.perf_counter() - started) * 1000
            log.info(
                "%s %s -> %d",
                request.method,
                name,
                status,
                extra={
                    "status": status,
                    **emf.log_fields(name, namespace, status, code, duration_ms),
                },
            )
            return response

        endpoint.contract = contract
        return endpoint

    return decorate


def _answer(request: Request, name: str, schema, command: Command, cid: str):
    """(status, payload, extra headers) for one request."""
    try:
        if request.method != "POST":
            raise MethodNotAllowed("use POST")
        raw = requests.read_body(request)
        user = auth.authenticate(request.headers.get("Authorization"))
        body = requests.validate(schema, raw)
        key = idempotency.key_for(
            request.headers.get(idempotency.HEADER), user.id, name, body.model_dump_json()
        )
        return 200, command(Call(user, body, key, cid)), {}
    except idempotency.Replayed as replay:
        stored = replay.response
        return (
            stored.status,
            _with_correlation_id(stored.body, cid),
            {idempotency.REPLAYED_HEADER: "true"},
        )
    except Exception as error:
        status, payload, headers = failure_answer(error, cid)
        if isinstance(error, MethodNotAllowed):
            headers["Allow"] = cors.ALLOWED_METHODS
        return status, payload, headers


def _with_correlation_id(body: dict, cid: str) -> dict:
    """A stored error body answers with this request's correlation id, like every error."""
    if "error" not in body:
        return body
    return {"error": {**body["error"], "correlation_id": cid}}
