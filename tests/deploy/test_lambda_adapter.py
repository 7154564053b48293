"""The functions behind API Gateway: the same function body, called through `handler`."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tests.conftest import ROOT
from tests.deploy.events import header, http_api_event, json_body, lambda_context

ALL = ("add_item", "remove_item", "checkout")


@pytest.fixture(scope="module")
def handlers(database_url):
    """Each function's main.py loaded as Lambda would load it, under its own module name."""
    loaded = {}
    for name in ALL:
        spec = importlib.util.spec_from_file_location(
            f"lambda_{name}", ROOT / "functions" / name / "main.py"
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        loaded[name] = module.handler
    return loaded


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


# Imports a function's main.py, invokes its handler once, and reports which heavy packages
# that loaded: a fresh interpreter, as on a cold start.
_COLD_START = """
import importlib.util, json, sys
sys.path.insert(0, {root!r})
spec = importlib.util.spec_from_file_location("main", {source!r})
main = importlib.util.module_from_spec(spec)
spec.loader.exec_module(main)
sys.path.insert(0, {tests!r})
from events import http_api_event, lambda_context
result = main.handler(http_api_event("/x", {{"product_id": 1}}), lambda_context())
print(json.dumps({{"status": result["statusCode"], "loaded": sorted(sys.modules)}}))
"""


@pytest.mark.parametrize("name", ALL)
def test_a_cold_start_loads_neither_boto3_nor_functions_framework(name, database_url):
    script = _COLD_START.format(
        root=str(ROOT),
        source=str(ROOT / "functions" / name / "main.py"),
        tests=str(ROOT / "tests" / "deploy"),
    )
    ran = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=os.environ, check=True
    )
    report = json.loads(ran.stdout.splitlines()[-1])
    assert report["status"] == 401  # it ran: no token
    heavy = {"boto3", "botocore", "functions_framework"}
    loaded = {module for module in report["loaded"] if module.split(".")[0] in heavy}
    # Powertools (the metrics, shared/entrypoints/emf.py) imports botocore's package itself, one
    # module and under a millisecond, to tag the SDK's user agent; the SDK stays unloaded.
    assert loaded <= {"botocore"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_functions_framework_still_serves_the_undecorated_target(database_url):
    """No @functions_framework.http: "http" is its default signature type."""
    port = _free_port()
    source = ROOT / "functions" / "add_item" / "main.py"
    command = [sys.executable, "-m", "functions_framework", "--target=add_item"]
    command += [f"--source={source}", "--host=127.0.0.1", f"--port={port}"]
    server = subprocess.Popen(
        command, env={**os.environ, "PYTHONPATH": str(ROOT)}, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            request = urllib.request.Request(f"http://127.0.0.1:{port}/", data=b"{}")
            try:
                urllib.request.urlopen(request, timeout=2)
            except urllib.error.HTTPError as error:
                answered = error  # the name bound by `as` is gone after the block
                break
            except OSError:
                assert time.monotonic() < deadline, "functions-framework did not start"
                time.sleep(0.2)
        assert answered.code == 401
        assert json.loads(answered.read())["error"]["code"] == "unauthorized"
    finally:
        server.terminate()
        server.wait(timeout=10)
