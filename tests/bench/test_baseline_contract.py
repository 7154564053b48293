"""The bench's baseline answers like the functions do, so comparing them is fair.

Each case is sent to ours and to the FastAPI baseline with the same user and product; the
status, the error code and the success body (less generated ids and times) must agree.
"""

from __future__ import annotations

import warnings

import pytest

from bench.baseline_fastapi.app import app as baseline_app

CASES = [
    # (function, body, what to prepare in the cart first: product -> quantity)
    ("add_item", {"product_id": "PRODUCT", "quantity": 2}, {}),
    ("add_item", {"product_id": "PRODUCT", "quantity": 0}, {}),
    ("add_item", {"product_id": "PRODUCT", "quantity": "1"}, {}),
    ("add_item", {"product_id": "PRODUCT", "quantity": 6}, {}),
    ("add_item", {"product_id": 2**53 - 1, "quantity": 1}, {}),
    ("remove_item", {"product_id": "PRODUCT", "quantity": 1}, {}),
    ("remove_item", {"product_id": "PRODUCT", "quantity": 5}, {"PRODUCT": 2}),
    ("checkout", {}, {}),
    ("checkout", {}, {"PRODUCT": 3}),
]


@pytest.fixture(scope="module")
def baseline(database_url):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # starlette's note that its TestClient will change client
        from fastapi.testclient import TestClient
    return TestClient(baseline_app)


def answer(post, function: str, token: str, body) -> tuple[int, object]:
    status, payload = post(function, token, body)
    if status != 200:
        return status, payload["error"]["code"]
    generated = ("order_id", "created_at")
    return status, {k: v for k, v in payload.items() if k not in generated}


def without_ids(result):
    """Product ids differ between the two runs (each gets its own product): leave them out."""
    if isinstance(result, dict):
        return {k: without_ids(v) for k, v in result.items() if k != "product_id"}
    if isinstance(result, list):
        return [without_ids(item) for item in result]
    return result


@pytest.mark.parametrize("function, body, cart", CASES)
def test_baseline_answers_like_the_functions(
    function, body, cart, client, baseline, new_user, admin
):
    def ours(name, token, payload):
        response = client(name).post("/", json=payload, headers={"Authorization": token})
        return response.status_code, response.get_json()

    def theirs(name, token, payload):
        response = baseline.post(f"/{name}", json=payload, headers={"Authorization": token})
        return response.status_code, response.json()

    answers = []
    for post in (ours, theirs):
        product = admin.create_product(stock=5, price_cents=250, name="same name")
        _, token = new_user()
        for quantity in cart.values():
            assert post("add_item", token, {"product_id": product, "quantity": quantity})[0] == 200
        filled = {k: (product if v == "PRODUCT" else v) for k, v in body.items()}
        status, result = answer(post, function, token, filled)
        answers.append((status, without_ids(result)))
    assert answers[0] == answers[1]


def test_baseline_refuses_a_bad_token_like_the_functions(client, baseline):
    headers = {"Authorization": "Bearer not-a-token"}
    ours = client("add_item").post("/", json={"product_id": 1}, headers=headers)
    theirs = baseline.post("/add_item", json={"product_id": 1}, headers=headers)
    assert (ours.status_code, ours.get_json()["error"]["code"]) == (401, "unauthorized")
    assert (theirs.status_code, theirs.json()["error"]["code"]) == (401, "unauthorized")
