"""Plain HTTP against the running local stack, and shoppers who signed up through /auth/v1."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass

import pytest


@dataclass
class Answer:
    status: int
    headers: dict
    body: object


class Gateway:
    def __init__(self, stack):
        self.stack = stack

    def request(self, method: str, path: str, body=None, headers=None, apikey=True) -> Answer:
        all_headers = {"apikey": self.stack.anon_key} if apikey else {}
        all_headers.update(headers or {})
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            all_headers.setdefault("Content-Type", "application/json")
        request = urllib.request.Request(
            self.stack.url + path, data=data, headers=all_headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, headers, raw = response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            status, headers, raw = error.code, dict(error.headers), error.read()
        return Answer(status, headers, json.loads(raw) if raw else None)

    def get(self, path: str, **kwargs) -> Answer:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body=None, **kwargs) -> Answer:
        return self.request("POST", path, body=body, **kwargs)


@dataclass
class Shopper:
    id: str
    email: str
    password: str
    access_token: str
    refresh_token: str

    @property
    def auth(self) -> dict:
        return {"Authorization": f"Bearer {self.access_token}"}


@pytest.fixture(scope="session")
def gateway(local_stack) -> Gateway:
    return Gateway(local_stack)


@pytest.fixture
def sign_up(gateway):
    """`sign_up()` -> a new Shopper, created through POST /auth/v1/signup."""

    def make() -> Shopper:
        email = f"shopper-{uuid.uuid4().hex[:10]}@example.com"
        password = f"pw-{uuid.uuid4().hex}"
        answer = gateway.post("/auth/v1/signup", {"email": email, "password": password})
        assert answer.status == 200, answer.body
        session = answer.body
        return Shopper(
            session["user"]["id"],
            email,
            password,
            session["access_token"],
            session["refresh_token"],
        )

    return make


_WRITABLE = ("products", "carts", "cart_items", "orders", "order_items")
_AUTH = ("auth.users", "auth.refresh_tokens")


@pytest.fixture
def fingerprint(admin):
    """`fingerprint()` -> one hash of every row a write could touch and of the schema itself,
    in one round trip, to prove a refused request changed nothing."""
    parts = [
        f"(select coalesce(json_agg(t order by t::text), '[]')::text from {table} t)"
        for table in _WRITABLE + _AUTH
    ]
    parts.append(
        "(select string_agg(c.oid::text || c.relname, ',' order by c.oid) from pg_class c"
        " join pg_namespace n on n.oid = c.relnamespace where n.nspname in ('public', 'auth'))"
    )
    sql = f"select md5(concat_ws('|', {', '.join(parts)}))"
    return lambda: admin.scalar(sql)
