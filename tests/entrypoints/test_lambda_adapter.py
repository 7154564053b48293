"""The Lambda adapter (shared/entrypoints/lambda_adapter.py): the same function body, called
through `handler` with real API Gateway HTTP API v2 events."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from functions import registry
from tests.support import ROOT, header, http_api_event, json_body, lambda_context


def test_add_item_through_an_http_api_event(handlers, new_user, admin):
    product = admin.create_product(stock=5)
    user, token = new_user()
    event = http_api_event(
        "/add-item", {"product_id": product, "quantity": 2}, headers={"Authorization": token}
    )
    result = handlers["add_item"](event, lambda_context())
    assert result["statusCode"] == 200, result
    assert result["isBase64Encoded"] is False
    assert header(result, "Content-Type") == "application/json"
    assert json_body(result) == {"product_id": product, "quantity": 2}
    assert admin.stock(product) == 3 and admin.in_cart(user, product) == 2


def test_the_correlation_id_falls_back_to_api_gateways_request_id(handlers, new_user):
    _, token = new_user()
    event = http_api_event("/checkout", {}, headers={"Authorization": token}, request_id="Ab+/9=")
    result = handlers["checkout"](event, lambda_context())
    assert result["statusCode"] == 409  # an empty cart
    assert header(result, "X-Correlation-ID") == "Ab+/9="
    assert json_body(result)["error"]["correlation_id"] == "Ab+/9="


def test_the_callers_correlation_id_wins(handlers, new_user):
    _, token = new_user()
    headers = {"Authorization": token, "X-Correlation-ID": "flow-7"}
    result = handlers["checkout"](
        http_api_event("/checkout", {}, headers=headers), lambda_context()
    )
    assert header(result, "X-Correlation-ID") == "flow-7"


def test_a_base64_body_is_decoded(handlers, new_user, admin):
    product = admin.create_product(stock=5)
    user, token = new_user()
    event = http_api_event(
        "/add-item", {"product_id": product}, headers={"Authorization": token}, as_base64=True
    )
    assert handlers["add_item"](event, lambda_context())["statusCode"] == 200
    assert admin.in_cart(user, product) == 1


@pytest.mark.parametrize(
    "method, headers, status, code",
    [
        ("GET", {}, 405, "method_not_allowed"),
        ("POST", {}, 401, "unauthorized"),
        ("POST", {"Authorization": "Bearer not-a-jwt"}, 401, "unauthorized"),
    ],
)
def test_errors_are_json_with_the_request_id(handlers, method, headers, status, code):
    event = http_api_event("/remove-item", {"product_id": 1}, method=method, headers=headers)
    result = handlers["remove_item"](event, lambda_context())
    assert result["statusCode"] == status
    error = json_body(result)["error"]
    assert error["code"] == code and error["correlation_id"] == "JKJaXmPLvHcESHA="
    assert "Traceback" not in result["body"]


def test_preflight_reaches_the_function(handlers):
    headers = {"Origin": "http://127.0.0.1:54321", "Access-Control-Request-Method": "POST"}
    event = http_api_event("/add-item", method="OPTIONS", headers=headers)
    result = handlers["add_item"](event, lambda_context())
    assert result["statusCode"] == 204
    assert header(result, "Access-Control-Allow-Origin") == "http://127.0.0.1:54321"


# Imports a function's main.py, invokes its handler once with the event and context given on
# stdin, and reports which heavy packages that loaded: a fresh interpreter, as on a cold start.
_COLD_START = """
import importlib.util, json, sys
from types import SimpleNamespace
sys.path.insert(0, {root!r})
spec = importlib.util.spec_from_file_location("main", {source!r})
main = importlib.util.module_from_spec(spec)
spec.loader.exec_module(main)
event, context = json.loads(sys.stdin.read())
result = main.handler(event, SimpleNamespace(**context))
print(json.dumps({{"status": result["statusCode"], "loaded": sorted(sys.modules)}}))
"""


@pytest.mark.parametrize("name", [f.name for f in registry.COMMANDS])
def test_a_cold_start_loads_neither_boto3_nor_flask(name, database_url):
    script = _COLD_START.format(root=str(ROOT), source=str(ROOT / "functions" / name / "main.py"))
    context = {k: v for k, v in vars(lambda_context()).items() if not callable(v)}
    ran = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps([http_api_event("/x", {"product_id": 1}), context]),
        capture_output=True,
        text=True,
        env=os.environ,
        check=True,
    )
    report = json.loads(ran.stdout.splitlines()[-1])
    assert report["status"] == 401  # it ran: no token
    heavy = {"boto3", "botocore", "functions_framework", "flask", "jinja2", "click"}
    loaded = {module for module in report["loaded"] if module.split(".")[0] in heavy}
    assert not loaded
