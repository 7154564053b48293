"""/auth/v1: the GoTrue subset supabase-js and supabase-py use, against the real database."""

import jwt
import pytest

from devstack import devkeys


def test_signup_returns_a_session_the_functions_accept(gateway, sign_up, admin):
    shopper = sign_up()
    claims = jwt.decode(shopper.access_token, options={"verify_signature": False})
    assert claims["sub"] == shopper.id
    assert claims["aud"] == "authenticated" and claims["role"] == "authenticated"
    assert claims["email"] == shopper.email
    assert claims["exp"] - claims["iat"] == 3600
    product = admin.create_product(stock=3)
    answer = gateway.post(
        "/functions/v1/add-item", {"product_id": product, "quantity": 1}, headers=shopper.auth
    )
    assert answer.status == 200, answer.body
    assert admin.in_cart(shopper.id, product) == 1


def test_password_is_stored_as_a_scrypt_hash(sign_up, admin):
    shopper = sign_up()
    stored = admin.scalar("select encrypted_password from auth.users where id = :id", id=shopper.id)
    assert stored.startswith("scrypt$") and shopper.password not in stored


def test_sign_in_with_password_has_the_shape_supabase_js_requires(gateway, sign_up):
    shopper = sign_up()
    answer = gateway.post(
        "/auth/v1/token?grant_type=password",
        {"email": shopper.email.upper(), "password": shopper.password, "gotrue_meta_security": {}},
    )
    assert answer.status == 200, answer.body
    session = answer.body
    assert session["access_token"] and session["refresh_token"] and session["expires_in"] == 3600
    assert session["token_type"] == "bearer"
    user = session["user"]
    assert {"id", "aud", "role", "email", "app_metadata", "user_metadata", "created_at"} <= set(
        user
    )
    assert user["id"] == shopper.id and user["email"] == shopper.email


@pytest.mark.parametrize(
    "body, status, code",
    [
        ({"email": "nobody@example.com", "password": "whatever1"}, 400, "invalid_credentials"),
        ({"email": "not-an-email", "password": "whatever1"}, 400, "validation_failed"),
        ({"email": "a@example.com"}, 400, "validation_failed"),
    ],
)
def test_failed_sign_in_answers_gotrue_errors(gateway, body, status, code):
    answer = gateway.post("/auth/v1/token?grant_type=password", body)
    assert (answer.status, answer.body["code"]) == (status, code)
    assert answer.headers["X-Supabase-Api-Version"] == "2024-01-01"


def test_wrong_password_is_refused(gateway, sign_up):
    shopper = sign_up()
    answer = gateway.post(
        "/auth/v1/token?grant_type=password", {"email": shopper.email, "password": "wrong-one"}
    )
    assert (answer.status, answer.body["code"]) == (400, "invalid_credentials")


def test_signup_refuses_a_taken_email_and_a_short_password(gateway, sign_up):
    shopper = sign_up()
    taken = gateway.post("/auth/v1/signup", {"email": shopper.email, "password": "another-pw"})
    assert (taken.status, taken.body["code"]) == (422, "user_already_exists")
    short = gateway.post("/auth/v1/signup", {"email": "short@example.com", "password": "12345"})
    assert (short.status, short.body["code"]) == (422, "weak_password")
    assert short.body["weak_password"]["reasons"] == ["length"]


def test_refresh_token_rotates_and_is_spent_once(gateway, sign_up):
    shopper = sign_up()
    refreshed = gateway.post(
        "/auth/v1/token?grant_type=refresh_token", {"refresh_token": shopper.refresh_token}
    )
    assert refreshed.status == 200, refreshed.body
    assert refreshed.body["refresh_token"] != shopper.refresh_token
    assert refreshed.body["user"]["id"] == shopper.id
    again = gateway.post(
        "/auth/v1/token?grant_type=refresh_token", {"refresh_token": shopper.refresh_token}
    )
    assert (again.status, again.body["code"]) == (400, "refresh_token_already_used")
    unknown = gateway.post("/auth/v1/token?grant_type=refresh_token", {"refresh_token": "nope"})
    assert (unknown.status, unknown.body["code"]) == (400, "refresh_token_not_found")


def test_user_endpoint_needs_a_valid_user_token(gateway, sign_up, local_stack):
    shopper = sign_up()
    me = gateway.get("/auth/v1/user", headers=shopper.auth)
    assert (me.status, me.body["id"], me.body["email"]) == (200, shopper.id, shopper.email)
    anon = gateway.get("/auth/v1/user", headers={"Authorization": f"Bearer {local_stack.anon_key}"})
    assert anon.status == 403
    forged = devkeys.mint_token(devkeys.generate_private_jwk(), shopper.id)
    assert gateway.get("/auth/v1/user", headers={"Authorization": f"Bearer {forged}"}).status == 403


def test_logout_revokes_the_sessions_refresh_tokens(gateway, sign_up):
    shopper = sign_up()
    answer = gateway.post("/auth/v1/logout?scope=global", headers=shopper.auth)
    assert answer.status == 204
    refresh = gateway.post(
        "/auth/v1/token?grant_type=refresh_token", {"refresh_token": shopper.refresh_token}
    )
    assert (refresh.status, refresh.body["code"]) == (400, "refresh_token_not_found")


def test_auth_wants_the_anon_key_but_jwks_is_public(gateway, local_stack):
    missing = gateway.post("/auth/v1/signup", {"email": "x@example.com"}, apikey=False)
    assert missing.status == 401
    jwks = gateway.get("/auth/v1/.well-known/jwks.json", apikey=False)
    assert jwks.status == 200
    assert jwks.body == devkeys.public_jwks(local_stack.private_jwk)
    assert "d" not in jwks.body["keys"][0]
