"""Correlation ids in logs and responses: JSON lines, a forged id replaced, a fresh one minted.

The wrapper's own behaviour, shown through add_item and checkout (any command would do)."""

import json
import logging

import pytest

from tests.support import post


@pytest.fixture
def json_lines(capfd):
    """The JSON log lines the functions wrote to stderr during the test."""

    def read():
        return [json.loads(line) for line in capfd.readouterr().err.splitlines() if line.strip()]

    return read


def test_every_log_line_is_json_and_carries_the_incoming_id(client, new_user, admin, json_lines):
    logging.getLogger("shared.sql").setLevel(logging.DEBUG)  # SQL statements too
    try:
        product = admin.create_product(stock=3)
        _, token = new_user()
        json_lines()
        response = post(
            client("add_item"),
            token,
            {"product_id": product},
            **{"X-Correlation-ID": "order-flow.42:a"},
        )
        lines = json_lines()
    finally:
        logging.getLogger("shared.sql").setLevel(logging.NOTSET)
    assert response.headers["X-Correlation-ID"] == "order-flow.42:a"
    assert len(lines) >= 5  # BEGIN, lock, write, COMMIT, the request line
    assert {line["correlation_id"] for line in lines} == {"order-flow.42:a"}
    assert {line["function"] for line in lines} == {"add_item"}
    assert all({"timestamp", "level", "logger", "message"} <= set(line) for line in lines)
    assert any(line["logger"] == "shared.sql" and "COMMIT" in line["message"] for line in lines)


@pytest.mark.parametrize(
    "forged", ['abc\n{"level": "INFO"}', "x" * 500, "a b", "<script>", "id\tx", "é", ""]
)
def test_a_forged_id_is_replaced(client, new_user, json_lines, forged):
    _, token = new_user()
    json_lines()
    # Through the WSGI environ, since the test client (rightly) refuses a newline in a header.
    response = client("checkout").post(
        "/",
        json={},
        headers={"Authorization": token},
        environ_overrides={"HTTP_X_CORRELATION_ID": forged},
    )
    cid = response.headers["X-Correlation-ID"]
    assert cid != forged and len(cid) == 36
    assert response.get_json()["error"]["correlation_id"] == cid
    assert {line["correlation_id"] for line in json_lines()} == {cid}


def test_an_id_is_minted_when_none_is_sent(client, new_user):
    _, token = new_user()
    first = post(client("checkout"), token, {}).headers["X-Correlation-ID"]
    second = post(client("checkout"), token, {}).headers["X-Correlation-ID"]
    assert first != second and len(first) == 36
