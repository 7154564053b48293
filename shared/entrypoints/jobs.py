"""The one wrapper for scheduled (and queue-driven) functions: the same correlation id, JSON
logs and JSON errors as the commands, whichever trigger runs the job.

`job_endpoint(name, answer)` turns `job() -> dict` into an HTTP function (functions-framework, Cloud
Scheduler, `make run`'s minute timer: any method is accepted, schedulers differ);
`scheduled_handler(endpoint)` gives the same job to AWS Lambda for an EventBridge schedule.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import Any

import pydantic
from werkzeug.wrappers import Request, Response

from shared import logs, metrics
from shared.config import log_level, metrics_namespace
from shared.entrypoints import emf
from shared.entrypoints.contract import Contract
from shared.entrypoints.lambda_adapter import read_settings_at_cold_start
from shared.entrypoints.responses import error_code, failure_answer, json_response

log = logging.getLogger("shared.jobs")
Job = Callable[[], dict]


class JobFailed(Exception):
    """Raised to Lambda after the failure was logged, so the platform counts an error."""


def job_endpoint(name: str, answer: type[pydantic.BaseModel]):
    """`answer` describes the job's 200 body, for the API document (`endpoint.contract`)."""
    logs.configure(log_level())
    namespace = metrics_namespace()

    def decorate(job: Job) -> Callable[[Request], Response]:
        @functools.wraps(job)
        def endpoint(request: Request) -> Response:
            cid = logs.begin_invocation(name, request.headers.get("X-Correlation-ID"))
            status, payload, headers, figures = _run(name, namespace, job, cid)
            log.info("%s %s -> %d", request.method, name, status, extra=figures)
            response = json_response(payload, status, headers)
            response.headers["X-Correlation-ID"] = cid
            return response

        endpoint.job = (name, job)
        endpoint.contract = Contract(name, answer)
        return endpoint

    return decorate


def scheduled_handler(endpoint) -> Callable[[dict, Any], dict]:
    """`handler(event, context)` for a schedule; a failed run raises, so it shows as an error."""
    name, job = endpoint.job
    read_settings_at_cold_start()
    namespace = metrics_namespace()

    def handler(event: dict, context: Any) -> dict:
        cid = logs.begin_invocation(name, getattr(context, "aws_request_id", None))
        status, payload, _, figures = _run(name, namespace, job, cid)
        log.info("scheduled %s -> %d", name, status, extra=figures)
        if status >= 400:
            raise JobFailed(payload["error"]["code"])
        return payload

    return handler


def _run(name: str, namespace: str, job: Job, cid: str) -> tuple[int, dict, dict, dict]:
    """(status, payload, headers) of one run, and the members its log line carries: the status
    and its figures as CloudWatch metrics (shared/entrypoints/emf.py)."""
    started = time.perf_counter()
    metrics.begin()
    try:
        status, payload, headers = 200, job(), {}
    except Exception as error:
        status, payload, headers = failure_answer(error, cid)
    duration_ms = (time.perf_counter() - started) * 1000
    figures = emf.log_fields(name, namespace, status, error_code(payload), duration_ms)
    return status, payload, headers, {"status": status, **figures}
