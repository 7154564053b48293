"""Small helpers shared by the function suites."""

from __future__ import annotations

import json


def post(client, token=None, body=None, raw: bytes | None = None, **headers):
    """POST to a function's entry point; `raw` sends bytes exactly as given."""
    if token:
        headers["Authorization"] = token
    data = raw if raw is not None else (json.dumps(body) if body is not None else None)
    return client.post("/", data=data, headers=headers, content_type="application/json")


def error_of(response) -> dict:
    payload = response.get_json()
    assert set(payload) == {"error"}, payload
    error = payload["error"]
    assert error["correlation_id"] == response.headers["X-Correlation-ID"]
    assert error["message"] and "Traceback" not in response.get_data(as_text=True)
    return error
