"""/auth/v1 sessions: refresh-token reuse and expiry, and how much a token may carry."""

import uuid

import pytest

REFRESH = "/auth/v1/token?grant_type=refresh_token"


def test_a_reused_refresh_token_revokes_its_whole_session(gateway, sign_up):
    """As GoTrue: a spent token presented again means two parties hold it, so every token
    rotated from that sign-in stops working; the user's other sign-ins are untouched."""
    shopper = sign_up()
    elsewhere = gateway.post(
        "/auth/v1/token?grant_type=password",
        {"email": shopper.email, "password": shopper.password},
    ).body["refresh_token"]
    first = gateway.post(REFRESH, {"refresh_token": shopper.refresh_token}).body["refresh_token"]
    latest = gateway.post(REFRESH, {"refresh_token": first}).body["refresh_token"]

    reuse = gateway.post(REFRESH, {"refresh_token": shopper.refresh_token})
    assert (reuse.status, reuse.body["code"]) == (400, "refresh_token_already_used")
    assert reuse.headers["X-Supabase-Api-Version"] == "2024-01-01"
    after = gateway.post(REFRESH, {"refresh_token": latest})
    assert (after.status, after.body["code"]) == (400, "refresh_token_already_used")
    assert gateway.post(REFRESH, {"refresh_token": elsewhere}).status == 200


def _age_refresh_tokens(admin, user_id: str, age: str) -> None:
    admin.execute(
        "update auth.refresh_tokens set created_at = now() - cast(:age as interval)"
        " where user_id = cast(:u as uuid)",
        age=age,
        u=user_id,
    )


def test_refresh_tokens_expire_after_the_configured_time(gateway, sign_up, admin, monkeypatch):
    monkeypatch.setenv("DEVSTACK_REFRESH_TOKEN_TTL_SECONDS", "3600")
    shopper = sign_up()
    _age_refresh_tokens(admin, shopper.id, "59 minutes")
    fresh = gateway.post(REFRESH, {"refresh_token": shopper.refresh_token})
    assert fresh.status == 200, fresh.body
    _age_refresh_tokens(admin, shopper.id, "61 minutes")
    stale = gateway.post(REFRESH, {"refresh_token": fresh.body["refresh_token"]})
    assert (stale.status, stale.body["code"]) == (400, "session_expired")


def test_refresh_tokens_last_a_week_by_default(gateway, sign_up, admin, monkeypatch):
    monkeypatch.delenv("DEVSTACK_REFRESH_TOKEN_TTL_SECONDS", raising=False)
    shopper = sign_up()
    _age_refresh_tokens(admin, shopper.id, "6 days 23 hours")
    fresh = gateway.post(REFRESH, {"refresh_token": shopper.refresh_token})
    assert fresh.status == 200, fresh.body
    _age_refresh_tokens(admin, shopper.id, "7 days 1 hour")
    stale = gateway.post(REFRESH, {"refresh_token": fresh.body["refresh_token"]})
    assert (stale.status, stale.body["code"]) == (400, "session_expired")


def _metadata_of(size: int) -> dict:
    """`{"note": "xxx…"}` whose compact JSON is exactly `size` bytes."""
    return {"note": "x" * (size - len('{"note":""}'))}


def test_metadata_up_to_4_kib_is_kept_and_its_tokens_still_work(gateway, admin):
    email = f"meta-{uuid.uuid4().hex[:10]}@example.com"
    metadata = _metadata_of(4096)
    answer = gateway.post(
        "/auth/v1/signup", {"email": email, "password": "a-password", "data": metadata}
    )
    assert answer.status == 200, answer.body
    assert answer.body["user"]["user_metadata"] == metadata
    # The token carries the metadata and must still fit a request header of the functions.
    product = admin.create_product(stock=1)
    added = gateway.post(
        "/functions/v1/add-item",
        {"product_id": product, "quantity": 1},
        headers={"Authorization": f"Bearer {answer.body['access_token']}"},
        apikey=False,
    )
    assert added.status == 200, added.body


@pytest.mark.parametrize("size", [4097, 15_000])
def test_larger_metadata_is_refused_and_no_user_is_made(gateway, admin, size):
    email = f"meta-{uuid.uuid4().hex[:10]}@example.com"
    answer = gateway.post(
        "/auth/v1/signup", {"email": email, "password": "a-password", "data": _metadata_of(size)}
    )
    assert (answer.status, answer.body["code"]) == (400, "validation_failed")
    assert "metadata" in answer.body["msg"]
    assert admin.scalar("select count(*) from auth.users where email = :e", e=email) == 0
