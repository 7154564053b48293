"""/functions/v1/<name>: the gateway forwards to the function's process, headers and all."""

import socket

from devstack.gateway import app as gateway_app
from devstack.stack import FRONTEND_DIR
from tests.support import free_port


def test_headers_pass_through_both_ways(gateway, sign_up, admin, local_stack):
    shopper = sign_up()
    product = admin.create_product(stock=2)
    answer = gateway.post(
        "/functions/v1/add-item",
        {"product_id": product, "quantity": 1},
        headers={
            **shopper.auth,
            "X-Correlation-ID": "browser-chose-this-id",
            "Origin": "http://127.0.0.1:54321",
        },
        apikey=False,
    )
    assert answer.status == 200, answer.body
    assert answer.headers["X-Correlation-ID"] == "browser-chose-this-id"
    exposed = {h.strip() for h in answer.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"X-Correlation-ID", "Idempotent-Replayed", "Retry-After"} <= exposed
    assert answer.headers["Server"].startswith("Werkzeug")  # one Server header: the gateway's


def test_function_errors_come_back_unchanged(gateway):
    answer = gateway.post("/functions/v1/checkout", {}, apikey=False)
    assert answer.status == 401
    assert answer.body["error"]["code"] == "unauthorized"
    assert answer.body["error"]["correlation_id"] == answer.headers["X-Correlation-ID"]


def test_unknown_function_is_a_json_404(gateway):
    answer = gateway.post("/functions/v1/refund-everything", {}, apikey=False)
    assert answer.status == 404
    assert answer.body["error"]["code"] == "function_not_found"
    assert answer.body["error"]["correlation_id"] == answer.headers["X-Correlation-ID"]


def test_a_function_that_is_down_is_a_json_502(local_stack):
    app = gateway_app.create_app(
        local_stack.engine,
        local_stack.private_jwk,
        local_stack.url,
        {"add-item": free_port()},  # nothing listens there
        FRONTEND_DIR,
    )
    response = app.test_client().post("/functions/v1/add-item", json={"product_id": 1})
    assert response.status_code == 502
    assert response.get_json()["error"]["code"] == "function_unavailable"


def test_a_path_below_a_function_is_forwarded_encoded_not_a_500(gateway, admin, sign_up):
    """werkzeug decodes `a%20b` to `a b`, which http.client refuses to send as it is."""
    shopper = sign_up()
    product = admin.create_product(stock=1)
    for path in ("/functions/v1/add-item/a%20b", "/functions/v1/add-item/%00?x=%20y%0A"):
        answer = gateway.post(
            path, {"product_id": product, "quantity": 0}, headers=shopper.auth, apikey=False
        )
        assert answer.status < 500, (path, answer.status, answer.body)
        assert answer.body["error"]["correlation_id"] == answer.headers["X-Correlation-ID"]


def test_a_raw_control_byte_in_the_query_is_not_a_500(local_stack):
    """A client may send what urllib would not: the request line is read as it comes."""
    with socket.create_connection(("127.0.0.1", local_stack.gateway_port), timeout=30) as raw:
        raw.sendall(
            b"POST /functions/v1/add-item?x=\x01y HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Length: 2\r\nConnection: close\r\n\r\n{}"
        )
        status_line = raw.makefile("rb").readline()
    assert int(status_line.split()[1]) < 500, status_line
