"""A malformed setting is the same clean 503 for every function, whatever its trigger."""

from __future__ import annotations

import json

import pytest

from functions import registry
from shared.entrypoints.jobs import JobFailed
from tests.support import lambda_context, load_main


@pytest.fixture
def malformed(env):
    """A cold start that finds DB_LOCK_TIMEOUT_MS=abc."""
    env(DB_LOCK_TIMEOUT_MS="abc")


@pytest.mark.parametrize("function", registry.NAMES)
def test_every_function_answers_503_json_naming_the_variable(apps, malformed, function):
    response = (
        apps[function]
        .test_client()
        .post("/", json={"product_id": 1}, headers={"X-Correlation-ID": "cfg-1"})
    )
    assert response.status_code == 503, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == "configuration_error"
    assert error["correlation_id"] == "cfg-1" == response.headers["X-Correlation-ID"]
    assert "DB_LOCK_TIMEOUT_MS" in error["message"] and "abc" not in error["message"]


@pytest.mark.parametrize("job", [f.name for f in registry.JOBS])
def test_a_scheduled_run_on_lambda_fails_loudly_and_logs_json(malformed, capfd, job):
    module = load_main(job, f"cold_{job}")
    capfd.readouterr()
    with pytest.raises(JobFailed, match="configuration_error"):
        module.handler({"source": "aws.events"}, lambda_context())
    lines = [json.loads(line) for line in capfd.readouterr().err.splitlines() if line.strip()]
    assert any("DB_LOCK_TIMEOUT_MS" in line["message"] for line in lines)
    assert {line["function"] for line in lines} == {job}
