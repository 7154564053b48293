"""What the suites share: requests to the functions, their answers, the environment, the data.

Fixtures live in tests/conftest.py; everything here is a plain function or class, so a test
module (or a fixture) imports what it uses by name.
"""

from __future__ import annotations

import base64
import contextlib
import importlib.util
import json
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import NamedTuple

import pytest
from sqlalchemy import text
from werkzeug.datastructures import Headers

from shared.adapters.postgres import connection as db
from shared.config import settings
from shared.entrypoints import auth

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"


def random_id() -> uuid.UUID:
    """A fresh id (users, keys, names, queues), so tests never collide with each other."""
    return uuid.uuid4()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- the environment, read once per cold start -------------------------------------------------


def reset_caches() -> None:
    """Settings, engine and keys are cached per cold start; tests that change env reset them."""
    if db.engine.cache_info().currsize:
        db.engine().dispose()
    for cached in (settings, db.engine, auth._static_keys, auth._jwks_client, auth._VERDICTS):
        cached.cache_clear()


@contextlib.contextmanager
def environment():
    """Yields `change(NAME=value, OTHER=None)`, which sets (None: removes) variables as a new
    cold start sees them; on exit every variable is put back and the caches reset again."""
    with pytest.MonkeyPatch.context() as patch:

        def change(**variables: str | None) -> None:
            for name, value in variables.items():
                if value is None:
                    patch.delenv(name, raising=False)
                else:
                    patch.setenv(name, value)
            reset_caches()

        try:
            yield change
        finally:
            patch.undo()
            reset_caches()


# --- calling a function -----------------------------------------------------------------------


class Answer(NamedTuple):
    """A function's answer, whichever entry point gave it."""

    status: int
    headers: Headers  # case-insensitive, as HTTP header names are
    json: object


def post(client, token=None, body=None, raw: bytes | None = None, **headers):
    """POST to a function's entry point; `raw` sends bytes exactly as given."""
    if token:
        headers["Authorization"] = token
    data = raw if raw is not None else (json.dumps(body) if body is not None else None)
    return client.post("/", data=data, headers=headers, content_type="application/json")


def error_of(response) -> dict:
    """The error of a Flask response or an `Answer`, after the checks every error must pass."""
    if isinstance(response, Answer):
        payload, headers, raw = response.json, response.headers, json.dumps(response.json)
    else:
        payload, headers, raw = (
            response.get_json(),
            response.headers,
            response.get_data(as_text=True),
        )
    assert set(payload) == {"error"}, payload
    error = payload["error"]
    assert error["correlation_id"] == headers["X-Correlation-ID"]
    assert error["message"] and "Traceback" not in raw
    return error


def load_main(name: str, module_name: str | None = None) -> ModuleType:
    """A function's main.py imported afresh under its own module name, as Lambda does on a cold
    start (functions-framework loads its own copy)."""
    spec = importlib.util.spec_from_file_location(
        module_name or f"lambda_{name}", ROOT / "functions" / name / "main.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def http_api_event(
    path: str,
    body: dict | None = None,
    method: str = "POST",
    headers: dict | None = None,
    request_id: str = "JKJaXmPLvHcESHA=",
    as_base64: bool = False,
    raw: bytes | None = None,
) -> dict:
    """A real API Gateway HTTP API (payload 2.0) event, as AWS sends it."""
    if raw is None:
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


def scheduled_event() -> dict:
    """An EventBridge schedule's event, as it reaches a scheduled function."""
    return {
        "version": "0",
        "id": str(random_id()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "detail": {},
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
    """A Lambda result's header, whatever case the adapter gave its name."""
    return Headers(result["headers"]).get(name)


def call_app(app, body=None, token=None, raw=None, method="POST", **headers) -> Answer:
    """A request to a functions-framework app, through its Flask test client."""
    if token:
        headers["Authorization"] = token
    data = raw if raw is not None else (json.dumps(body) if body is not None else None)
    response = app.test_client().open(
        "/", method=method, data=data, headers=headers, content_type="application/json"
    )
    return Answer(response.status_code, Headers(response.headers), response.get_json(silent=True))


def call_handler(function, handler, body=None, token=None, raw=None, method="POST", **headers):
    """The same request to the function's Lambda `handler`, as API Gateway (a command) or
    EventBridge (a scheduled function) invokes it. A scheduled run answers its payload; a
    failed one raises, as Lambda expects."""
    context = lambda_context(f"shopping-system-test-{function.deployed_name}")
    if function.schedule:
        return Answer(200, Headers(), handler(scheduled_event(), context))
    if token:
        headers["Authorization"] = token
    # API Gateway passes a body that is not UTF-8 text base64-encoded.
    binary = raw is not None and not _is_text(raw)
    event = http_api_event(f"/{function.route}", body, method, headers, as_base64=binary, raw=raw)
    result = handler(event, context)
    payload = json_body(result) if result.get("body") else None
    return Answer(result["statusCode"], Headers(result["headers"]), payload)


def _is_text(raw: bytes) -> bool:
    try:
        raw.decode()
    except UnicodeDecodeError:
        return False
    return True


# --- concurrency --------------------------------------------------------------------------------


def run_concurrently(calls, threads):
    """Start every call at once (a barrier per worker) and collect what each returned."""
    barrier = threading.Barrier(min(threads, len(calls)))

    def run(call):
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=10)
        return call()

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(run, calls))


def wait_for_lock_waiters(admin, count: int, timeout: float = 10) -> list[int]:
    """Backends of this database waiting on a lock, once there are `count` of them."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = [
            pid
            for (pid,) in admin.rows(
                "select pid from pg_stat_activity where datname = current_database()"
                " and wait_event_type = 'Lock' order by backend_start"
            )
        ]
        if len(pids) >= count:
            return pids
        time.sleep(0.02)
    raise AssertionError(f"expected {count} backends waiting on a lock")


def queued_behind_the_cart(client, admin, user, token, commands) -> list:
    """Hold the customer's cart row, queue `commands` (function, body) on it in that order, then
    let them go: each one after the one before it committed, from a snapshot taken before."""
    answers: dict[int, object] = {}
    threads = []
    with admin.holding("select from carts where user_id = :u for update", u=user):
        for n, (function, body) in enumerate(commands):
            thread = threading.Thread(
                target=lambda n=n, f=function, b=body: answers.__setitem__(
                    n, post(client(f), token, b)
                )
            )
            thread.start()
            threads.append(thread)
            wait_for_lock_waiters(admin, n + 1)
    for thread in threads:
        thread.join(10)
    return [answers[n] for n in range(len(commands))]


# --- the database, as its owner and as PostgREST -----------------------------------------------


class Admin:
    """Owner connection for arranging and inspecting data (autocommit)."""

    def __init__(self, engine):
        self.engine = engine

    def scalar(self, sql: str, **params):
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()

    def rows(self, sql: str, **params):
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).all()

    def execute(self, sql: str, **params) -> None:
        with self.engine.connect() as conn:
            conn.execute(text(sql), params)

    def create_product(
        self,
        stock: int = 100,
        price_cents: int = 1000,
        name=None,
        buckets: int = 1,
        max_per_customer: int | None = None,
    ) -> int:
        """A fresh product; with `buckets` > 1 its stock is spread by set_product_stock."""
        product = self.scalar(
            "insert into products (name, price_cents, stock, max_per_customer)"
            " values (:n, :p, :s, :m) returning id",
            n=name or f"test product {random_id().hex[:8]}",
            p=price_cents,
            s=stock,
            m=max_per_customer,
        )
        if buckets > 1:
            self.set_product_stock(product, stock, buckets)
        return product

    def set_product_stock(self, product_id: int, units: int, buckets: int | None = None) -> None:
        """What an operator runs in the Supabase SQL editor (as the owner)."""
        self.execute(
            "select public.set_product_stock(:p, :u, :b)", p=product_id, u=units, b=buckets
        )

    def stock(self, product_id: int) -> int:
        """Units available: the sum over the product's buckets, as product_catalog shows it."""
        return self.scalar("select stock from product_catalog where id = :id", id=product_id)

    def buckets(self, product_id: int) -> list[int]:
        """Units in each bucket, bucket 0 (products.stock) first."""
        return [
            units
            for _, units in self.rows(
                "select 0, stock from products where id = :id union all"
                " select bucket, units from product_stock_buckets where product_id = :id"
                " order by 1",
                id=product_id,
            )
        ]

    def in_cart(self, user_id, product_id: int) -> int:
        return self.scalar(
            "select coalesce(sum(ci.quantity), 0) from cart_items ci join carts c"
            " on c.id = ci.cart_id where c.user_id = :u and ci.product_id = :p",
            u=user_id,
            p=product_id,
        )

    def put_in_cart(self, user_id, product_id: int, quantity: int = 1) -> None:
        """What add_item does, done by the owner: a suite arranges a cart without calling
        another function, so it exercises its own function only."""
        self.execute(
            "with cart as ("
            "  insert into carts (user_id) values (:u)"
            "  on conflict (user_id) do update set updated_at = now() returning id"
            "), taken as (update products set stock = stock - :q where id = :p)"
            " insert into cart_items as ci (cart_id, product_id, quantity)"
            " select id, :p, :q from cart"
            " on conflict (cart_id, product_id) do update set quantity = ci.quantity + :q",
            u=user_id,
            p=product_id,
            q=quantity,
        )

    @contextlib.contextmanager
    def holding(self, sql: str, **params):
        """Run `sql` in a transaction left open (holding its row locks) until the block ends."""
        engine = self.engine.execution_options(isolation_level="READ COMMITTED")
        with engine.connect() as conn, conn.begin():
            conn.execute(text(sql), params)
            yield conn

    def expire_cart(self, user_id) -> None:
        """Make the user's reservation lapse now, as if CART_TTL_MINUTES had passed."""
        self.execute(
            "update carts set expires_at = now() - interval '1 second' where user_id = :u",
            u=user_id,
        )

    def snapshot(self) -> dict:
        """Everything a command can write, to prove that a failed one wrote nothing."""
        tables = (
            "products",
            "product_stock_buckets",
            "carts",
            "cart_items",
            "orders",
            "order_items",
            "outbox",
        )
        digest = ", ".join(
            f"(select md5(coalesce(string_agg(t::text, ',' order by t::text), '')) from {t} t)"
            for t in tables
        )
        return dict(zip(tables, self.rows(f"select {digest}")[0], strict=True))

    def outbox_of(self, order_id) -> list:
        """(sent_at, attempts, last_error) of the order's events."""
        return self.rows(
            "select sent_at, attempts, last_error from outbox where order_id = :o", o=order_id
        )


def as_role(admin: Admin, role, user_id=None):
    """Run one query as PostgREST would for this role and user."""

    def query(sql, **params):
        # A real transaction (the admin engine autocommits), so SET LOCAL lasts for the query.
        engine = admin.engine.execution_options(isolation_level="READ COMMITTED")
        with engine.connect() as conn, conn.begin():
            conn.execute(text(f"set local role {role}"))
            claims = {"role": role, **({"sub": str(user_id)} if user_id else {})}
            conn.execute(
                text("select set_config('request.jwt.claims', :c, true)"),
                {"c": json.dumps(claims)},
            )
            return conn.execute(text(sql), params).all()

    return query


def sweep(client) -> dict:
    """One run of the expiry sweep through its HTTP target; its counts."""
    response = client("release_expired_carts").post("/")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["X-Correlation-ID"]
    return response.get_json()


def place_order(client, new_user, admin, **headers) -> dict:
    """A fresh user adds 3 units of a fresh product at 250 and checks out: the order's answer,
    with its `user_id` and `product_id`."""
    user, token = new_user()
    product = admin.create_product(stock=10, price_cents=250)
    auth_header = {"Authorization": token}
    added = client("add_item").post(
        "/", json={"product_id": product, "quantity": 3}, headers=auth_header
    )
    assert added.status_code == 200
    response = client("checkout").post("/", json={}, headers={**auth_header, **headers})
    assert response.status_code == 200, response.get_json()
    return {**response.get_json(), "user_id": str(user), "product_id": product}


def received(queue_url: str) -> list[dict]:
    """Every message on an SQS queue, each with its body parsed and attributes flattened."""
    import boto3  # only the suites that use a queue load it

    sqs, messages = boto3.client("sqs"), []
    while batch := sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    ).get("Messages"):
        for message in batch:
            attributes = message.get("MessageAttributes", {})
            messages.append(
                {
                    "body": json.loads(message["Body"]),
                    **{name: a["StringValue"] for name, a in attributes.items()},
                }
            )
    return messages
