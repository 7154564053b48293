"""Each invocation's log line carries its figures as CloudWatch Embedded Metric Format."""

from __future__ import annotations

import importlib
import json
import time

import pytest
from jsonschema import ValidationError

from shared import metrics
from shared.config import metrics_namespace
from shared.entrypoints import emf
from shared.service.unit_of_work import TryAgain, UnitOfWork
from tests.ops import emf_spec
from tests.support import lambda_context, post

LOCK_TIMEOUT_MS = 300


@pytest.fixture
def request_line(capfd):
    """`request_line(message)` -> the one JSON log line with that message written since."""
    capfd.readouterr()

    def find(message: str) -> dict:
        lines = [json.loads(line) for line in capfd.readouterr().err.splitlines() if line.strip()]
        [line] = [line for line in lines if line["message"] == message]
        return line

    return find


def figures(line: dict) -> dict[str, float]:
    """Metric name -> its one value, after checking the line against the specification."""
    emf_spec.check(line)
    [directive] = line["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "ShoppingSystem"
    assert directive["Dimensions"] == [["function", "outcome"], ["function"]]
    found = {}
    for metric in directive["Metrics"]:
        assert metric["Unit"] == metrics.UNITS[metric["Name"]]
        [found[metric["Name"]]] = line[metric["Name"]]
    return found


@pytest.mark.parametrize(
    "broken",
    [
        {},
        {"_aws": {"CloudWatchMetrics": []}},  # no Timestamp
        {"_aws": {"Timestamp": 1, "CloudWatchMetrics": [{"Namespace": "N", "Metrics": []}]}},
        {
            "_aws": {
                "Timestamp": 1,
                "CloudWatchMetrics": [
                    {"Namespace": "N", "Dimensions": [["fn"]], "Metrics": [{"Name": "m"}]}
                ],
            },
            "m": 1,  # the dimension `fn` is not on the root
        },
        {
            "_aws": {
                "Timestamp": 1,
                "CloudWatchMetrics": [
                    {"Namespace": "N", "Dimensions": [[]], "Metrics": [{"Name": "m"}]}
                ],
            },
            "m": "fast",  # not a number
        },
        {
            "_aws": {
                "Timestamp": 1,
                "CloudWatchMetrics": [
                    {
                        "Namespace": "N",
                        "Dimensions": [[]],
                        "Metrics": [{"Name": "m", "Unit": "Furlongs"}],
                    }
                ],
            },
            "m": 1,
        },
    ],
)
def test_the_checker_refuses_what_the_specification_refuses(broken):
    with pytest.raises((AssertionError, ValidationError)):
        emf_spec.check(broken)


def test_an_add_is_timed_counted_and_dimensioned(client, new_user, admin, request_line):
    product = admin.create_product(stock=5)
    _, token = new_user()
    assert (
        post(client("add_item"), token, {"product_id": product, "quantity": 2}).status_code == 200
    )
    line = request_line("POST add_item -> 200")
    found = figures(line)
    assert (line["function"], line["outcome"], line["status"]) == ("add_item", "200 ok", 200)
    assert {k: found[k] for k in ("requests", "server_errors", "busy", "throttled")} == {
        "requests": 1,
        "server_errors": 0,
        "busy": 0,
        "throttled": 0,
    }
    assert found["units_taken"] == 2 and "retries" not in found
    assert 0 < found["lock_wait_ms"] < found["duration_ms"]


def test_refusals_are_outcomes_and_take_no_units(client, new_user, admin, request_line):
    product = admin.create_product(stock=1)
    _, token = new_user()
    assert (
        post(client("add_item"), token, {"product_id": product, "quantity": 2}).status_code == 409
    )
    line = request_line("POST add_item -> 409")
    assert line["outcome"] == "409 insufficient_stock"
    assert "units_taken" not in figures(line)
    assert post(client("checkout"), "Bearer nope", {}).status_code == 401
    line = request_line("POST checkout -> 401")
    assert (line["function"], line["outcome"]) == ("checkout", "401 unauthorized")
    assert "lock_wait_ms" not in figures(line)  # refused before the database


def test_a_busy_answer_counts_as_busy_and_as_a_server_error(
    client, new_user, admin, request_line, env
):
    env(DB_LOCK_TIMEOUT_MS=str(LOCK_TIMEOUT_MS))
    product = admin.create_product(stock=5)
    _, token = new_user()
    with admin.holding("select * from products where id = :p for update", p=product):
        assert post(client("add_item"), token, {"product_id": product}).status_code == 503
    line = request_line("POST add_item -> 503")
    found = figures(line)
    assert line["outcome"] == "503 busy_try_again"
    assert (found["busy"], found["server_errors"]) == (1, 1)
    assert found["lock_wait_ms"] >= LOCK_TIMEOUT_MS  # the wait it gave up on


class _CollidingUnitOfWork(UnitOfWork):
    """Fails its first attempt as a deadlock would: the retry loop runs the work again."""

    def __init__(self):
        self.attempts = 0

    def __enter__(self):
        self.attempts += 1
        return self

    def __exit__(self, *exc):
        pass

    def commit(self):
        pass

    def classify(self, error):
        return TryAgain("deadlock", error)


def test_the_unit_of_work_counts_its_retries():
    uow = _CollidingUnitOfWork()

    def work(uow):
        if uow.attempts == 1:
            raise RuntimeError("40P01")
        return "done"

    metrics.begin()
    assert uow.run(work) == "done"
    assert metrics.collected() == {"retries": 1}


def test_a_figure_outside_the_list_is_a_mistake():
    with pytest.raises(KeyError, match="UNITS"):
        metrics.add("latency", 1)


def test_the_sweep_reports_what_it_released(client, new_user, admin, request_line):
    product = admin.create_product(stock=5)
    user, token = new_user()
    assert (
        post(client("add_item"), token, {"product_id": product, "quantity": 3}).status_code == 200
    )
    admin.expire_cart(user)
    assert client("release_expired_carts").post("/").status_code == 200
    found = figures(request_line("POST release_expired_carts -> 200"))
    assert found["released_carts"] >= 1 and found["released_units"] >= 3
    assert found["deleted_idempotency_keys"] >= 0 and found["requests"] == 1


def test_the_relay_reports_its_backlog_over_http_and_on_a_schedule(
    client, new_user, admin, request_line
):
    product = admin.create_product(stock=5)
    _, token = new_user()
    assert post(client("add_item"), token, {"product_id": product}).status_code == 200
    assert post(client("checkout"), token, {}).status_code == 200  # no queue: stays pending
    admin.execute(
        "update outbox set created_at = now() - interval '90 seconds' where sent_at is null"
    )
    assert client("relay_outbox").post("/").status_code == 200
    found = figures(request_line("POST relay_outbox -> 200"))
    assert found["outbox_pending"] >= 1 and found["outbox_oldest_pending_s"] >= 90
    assert (found["events_sent"], found["events_failed"]) == (0, 0)
    main = importlib.import_module("functions.relay_outbox.main")
    main.handler({"source": "aws.events"}, lambda_context("shopping-system-dev-relay-outbox"))
    line = request_line("scheduled relay_outbox -> 200")
    assert figures(line)["outbox_pending"] >= 1 and line["outcome"] == "200 ok"


def test_the_namespace_is_a_setting(env):
    env(METRICS_NAMESPACE="ShoppingSystem/prod")
    assert metrics_namespace() == "ShoppingSystem/prod"
    env(METRICS_NAMESPACE="no\nnewlines")
    assert metrics_namespace() == "ShoppingSystem"  # the settings answer 503; still counted
    metrics.begin()
    directive = emf.log_fields("checkout", "ShoppingSystem/prod", 200, None, 1.5)["aws"]
    assert directive["CloudWatchMetrics"][0]["Namespace"] == "ShoppingSystem/prod"
    assert time.time() * 1000 - directive["Timestamp"] < 60_000
