"""Schemathesis drives the three commands from docs/openapi.json against the contract stack.

Every answer must conform to the document (status, body, headers), none may be a 5xx, a refused
request must leave the database exactly as it was, and a request with an Idempotency-Key, sent
again, must answer the same and change nothing.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from pathlib import Path

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig

from functions.openapi import DOCUMENT
from shared.errors import ERROR_TABLE
from shared.service.idempotency import HEADER, KEY_PATTERN, REPLAYED_HEADER
from tests.contract import shopper
from tests.support import ARTIFACTS

CONFIG = SchemathesisConfig.from_path(Path(__file__).with_name("schemathesis.toml"))
api = schemathesis.openapi.from_path(DOCUMENT, config=CONFIG).include(tag="commands")


@api.auth(refresh_interval=None, retry_on=[])
class Shopper:
    """One signed-in shopper (a 401 is an answer to check, never a reason to log in again)."""

    def get(self, case, context):
        return shopper.TOKEN

    def set(self, case, token, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}


def _fresh_key(case) -> str | None:
    """A valid generated key made unique, as a client sends a fresh one per click: the fuzzer
    draws the same few keys again and again, and a key reused with another body is refused
    (422 idempotency_key_reused) by design. Invalid keys are sent as generated."""
    key = (case.headers or {}).get(HEADER)
    if key is None or not KEY_PATTERN.fullmatch(key):
        return None
    case.headers[HEADER] = f"{key[:200]}.{uuid.uuid4().hex}"
    return case.headers[HEADER]


@api.parametrize()
def test_every_answer_keeps_the_contract(
    case, contract_stack, contract_admin, contract_stock, answers
):
    base_url = contract_stack.url + "/functions/v1"
    key = _fresh_key(case)
    if case.path == "/checkout" and sum(answers.values()) % 2:
        _put_in_cart(contract_admin)  # every other checkout has something to order
    before = contract_admin.snapshot()
    response = case.call(base_url=base_url)
    status = response.status_code
    _tally(answers, case, response)
    case.validate_response(response)
    if not 200 <= status < 300:
        assert contract_admin.snapshot() == before, f"refused with {status}, yet wrote"
    if key is None or not _stored(case, response):
        return
    after = contract_admin.snapshot()
    replay = case.call(base_url=base_url)
    case.validate_response(replay)
    assert replay.status_code == status
    assert replay.headers.get(REPLAYED_HEADER.lower()) == ["true"]
    assert _without_correlation_id(replay.json()) == _without_correlation_id(response.json())
    assert contract_admin.snapshot() == after, "a replay applied the command again"
    _tally(answers, case, replay, "replayed")


def test_no_unit_was_made_or_lost(contract_admin, contract_stock):
    """After everything the fuzzer sent: every unit is in stock, in a cart or in an order."""
    assert _units(contract_admin) == contract_stock


def _put_in_cart(admin) -> None:
    """One unit of product 1 moved from stock to the shopper's cart, as add-item would."""
    admin.execute(
        "with taken as (update products set stock = stock - 1 where id = 1 and stock > 0"
        " returning id),"
        " cart as (insert into carts (user_id, expires_at)"
        " select :u, now() + interval '30 minutes' from taken"
        " on conflict (user_id) do update set updated_at = now() returning id)"
        " insert into cart_items (cart_id, product_id, quantity) select id, 1, 1 from cart"
        " on conflict (cart_id, product_id) do update set quantity = cart_items.quantity + 1",
        u=shopper.USER_ID,
    )


def _tally(answers: Counter[str], case, response, *notes: str) -> None:
    words = [case.method, case.path, "->", str(response.status_code), _code(response), *notes]
    answers[" ".join(filter(None, words))] += 1


def _code(response) -> str:
    """The error code of a JSON error body, else nothing."""
    try:
        return response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return ""


def _units(admin) -> dict[int, int]:
    rows = admin.rows(
        "select p.id, p.stock"
        " + coalesce((select sum(quantity) from cart_items where product_id = p.id), 0)"
        " + coalesce((select sum(quantity) from order_items where product_id = p.id), 0)"
        " from products p"
    )
    return dict(rows)


@pytest.fixture(scope="module")
def contract_stock(contract_admin) -> dict[int, int]:
    return _units(contract_admin)


@pytest.fixture(scope="module")
def answers():
    """What the fuzzer got, by operation and status: test-artifacts/contract-fuzz.json."""
    seen: Counter[str] = Counter()
    yield seen
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "contract-fuzz.json").write_text(json.dumps(dict(sorted(seen.items())), indent=1))


def _stored(case, response) -> bool:
    """Whether the answer was kept under the request's key: successes and stored refusals."""
    if case.method != "POST" or response.status_code >= 500:
        return False
    if response.status_code < 300:
        return True
    return any(f.code == _code(response) and f.stored for f in ERROR_TABLE.values())


def _without_correlation_id(body: dict) -> dict:
    if "error" in body:
        return {"error": {k: v for k, v in body["error"].items() if k != "correlation_id"}}
    return body
