"""Real API Gateway HTTP API (payload 2.0) events and a Lambda context, as AWS sends them."""

from __future__ import annotations

import base64
import json
import time
import uuid
from types import SimpleNamespace


def http_api_event(
    path: str,
    body: dict | None = None,
    method: str = "POST",
    headers: dict | None = None,
    request_id: str = "JKJaXmPLvHcESHA=",
    as_base64: bool = False,
) -> dict:
    raw = json.dumps(body).encode() if body is not None else b""
    return {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {
            "content-type": "application/json",
            "host": "abc123.execute-api.eu-west-1.amazonaws.com",
            "user-agent": "pytest",
            **{k.lower(): v for k, v in (headers or {}).items()},
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.eu-west-1.amazonaws.com",
            "domainPrefix": "abc123",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "pytest",
            },
            "requestId": request_id,
            "routeKey": f"{method} {path}",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()),
            "timeEpoch": int(time.time() * 1000),
        },
        "body": base64.b64encode(raw).decode() if as_base64 else raw.decode(),
        "isBase64Encoded": as_base64,
    }


def lambda_context(name: str = "shopping-system-dev-add-item") -> SimpleNamespace:
    return SimpleNamespace(
        function_name=name,
        aws_request_id=str(uuid.uuid4()),
        memory_limit_in_mb=512,
        invoked_function_arn=f"arn:aws:lambda:eu-west-1:123456789012:function:{name}",
        get_remaining_time_in_millis=lambda: 10_000,
    )


def json_body(result: dict) -> dict:
    body = result["body"]
    return json.loads(base64.b64decode(body) if result.get("isBase64Encoded") else body)


def header(result: dict, name: str) -> str | None:
    """A response header, whatever case the adapter gave its name (HTTP names are not cased)."""
    return {k.lower(): v for k, v in result["headers"].items()}.get(name.lower())
