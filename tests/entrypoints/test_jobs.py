"""The job wrapper (shared/entrypoints/jobs.py): scheduled functions answer like the commands do
(JSON, correlation id, the error table), and a failed scheduled run fails on Lambda."""

from __future__ import annotations

import logging

import flask
import pydantic
import pytest

from shared import logs
from shared.entrypoints.jobs import JobFailed, job_endpoint, scheduled_handler
from shared.errors import Busy
from tests.support import error_of, lambda_context, scheduled_event


class ProbeAnswer(pydantic.BaseModel):
    """The probe's 200 body, for the API document (the wrapper only records it)."""


def probe(job):
    """A job endpoint built here around `job`, and a way to send it a request."""
    endpoint = job_endpoint("probe_job", ProbeAnswer)(job)
    app = flask.Flask("probe_job")

    def request(method="POST", **headers):
        with app.test_request_context("/", method=method, headers=headers):
            return endpoint(flask.request)

    return endpoint, request


def failing(error):
    def job():
        raise error

    return job


@pytest.mark.parametrize("method", ["POST", "GET", "PUT"])
def test_a_scheduler_may_use_any_method(client, method):
    response = client("release_expired_carts").open("/", method=method)
    assert response.status_code == 200
    assert set(response.get_json()) == {
        "released_carts",
        "released_units",
        "deleted_idempotency_keys",
        "finished",
    }
    assert len(response.headers["X-Correlation-ID"]) == 36


def test_a_job_adopts_the_schedulers_correlation_id(client):
    response = client("relay_outbox").post("/", headers={"X-Correlation-ID": "cron-7"})
    assert response.headers["X-Correlation-ID"] == "cron-7"


def test_a_failed_job_answers_from_the_error_table():
    _, request = probe(failing(Busy("the database is busy; try again shortly")))
    response = request(**{"X-Correlation-ID": "job-1"})
    assert (response.status_code, response.headers["Retry-After"]) == (503, "1")
    error = error_of(response)
    assert (error["code"], error["correlation_id"]) == ("busy_try_again", "job-1")


def test_an_unexpected_failure_is_internal_and_logged(caplog):
    _, request = probe(failing(RuntimeError("secret detail: boom")))
    response = request()
    assert response.status_code == 500 and error_of(response)["code"] == "internal"
    assert "secret detail" not in response.get_data(as_text=True)
    assert any("secret detail: boom" in (r.exc_text or "") for r in caplog.records)


def test_a_scheduled_run_returns_its_payload_under_the_invocations_id():
    endpoint, _ = probe(lambda: {"done": 3})
    context = lambda_context("shopping-system-test-probe-job")
    assert scheduled_handler(endpoint)(scheduled_event(), context) == {"done": 3}
    assert logs.correlation_id() == context.aws_request_id


def test_a_failed_scheduled_run_raises_so_lambda_counts_an_error(caplog):
    caplog.set_level(logging.INFO, logger="shared.jobs")
    endpoint, _ = probe(failing(Busy("the database is busy; try again shortly")))
    with pytest.raises(JobFailed, match="busy_try_again"):
        scheduled_handler(endpoint)(scheduled_event(), lambda_context())
    assert "scheduled probe_job -> 503" in caplog.text


def test_a_misconfigured_job_answers_503_and_fails_on_lambda(client, handlers, env):
    env(OUTBOX_BATCH_SIZE="0")
    response = client("relay_outbox").post("/")
    assert response.status_code == 503
    assert error_of(response)["code"] == "configuration_error"
    with pytest.raises(JobFailed, match="configuration_error"):
        handlers["relay_outbox"](scheduled_event(), lambda_context())
