"""JWT verification with real keys and the real PyJWT, as an attacker would try it."""

import base64
import http.server
import json
import threading
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from devstack import devkeys
from shared.entrypoints import auth


@pytest.fixture(autouse=True)
def keys(env, signing_key):
    """The session's signing key as the only one configured; each test may change that."""
    env(
        JWT_JWKS=json.dumps(devkeys.public_jwks(signing_key)),
        SUPABASE_JWKS_URL=None,
        SUPABASE_JWT_SECRET=None,
    )


def claims(**overrides):
    now = int(time.time())
    base = {"sub": str(uuid.uuid4()), "aud": "authenticated", "role": "authenticated"}
    return {**base, "iat": now, "exp": now + 600, **overrides}


def es256(signing_key, payload, **headers):
    key = jwt.PyJWK(signing_key, "ES256").key
    return jwt.encode(payload, key, "ES256", headers={"kid": signing_key["kid"], **headers})


def test_a_valid_token_names_the_user(signing_key):
    payload = claims(email="a@example.com")
    user = auth.authenticate(f"Bearer {es256(signing_key, payload)}")
    assert (str(user.id), user.email, user.role) == (
        payload["sub"],
        "a@example.com",
        "authenticated",
    )


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def forged_tokens(signing_key):
    other_key = devkeys.generate_private_jwk()
    other_key["kid"] = signing_key["kid"]  # same kid, different key
    public_pem = (
        jwt.PyJWK(signing_key, "ES256")
        .key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    hs_with_public_key = (
        _b64({"alg": "HS256", "typ": "JWT", "kid": signing_key["kid"]}) + "." + _b64(claims())
    )
    import hashlib
    import hmac

    signature = hmac.new(public_pem, hs_with_public_key.encode(), hashlib.sha256).digest()
    hs_with_public_key += "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()
    return {
        "expired": es256(signing_key, claims(exp=int(time.time()) - 60)),
        "wrong audience": es256(signing_key, claims(aud="anon")),
        "no audience": es256(signing_key, {k: v for k, v in claims().items() if k != "aud"}),
        "no exp": es256(signing_key, {k: v for k, v in claims().items() if k != "exp"}),
        "sub not a uuid": es256(signing_key, claims(sub="admin")),
        "wrong key": es256(other_key, claims()),
        "alg none": _b64({"alg": "none", "typ": "JWT"}) + "." + _b64(claims()) + ".",
        "HS256 signed with the public key": hs_with_public_key,
        "garbage": "not.a.jwt",
        "tampered payload": (
            lambda t: t.split(".")[0] + "." + _b64(claims()) + "." + t.split(".")[2]
        )(es256(signing_key, claims())),
    }


@pytest.mark.parametrize(
    "case",
    [
        "expired",
        "wrong audience",
        "no audience",
        "no exp",
        "sub not a uuid",
        "wrong key",
        "alg none",
        "HS256 signed with the public key",
        "garbage",
        "tampered payload",
    ],
)
def test_forged_or_stale_tokens_are_refused(signing_key, case):
    with pytest.raises(auth.Unauthorized):
        auth.authenticate(f"Bearer {forged_tokens(signing_key)[case]}")


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer   ", "Basic abc", "token abc"])
def test_missing_or_malformed_header(header):
    with pytest.raises(auth.Unauthorized):
        auth.authenticate(header)


def test_rs256_keys_from_a_jwks_document(env):
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(RSAAlgorithm.to_jwk(private.public_key()))
    jwk.update(kid="rsa-1", alg="RS256")
    env(JWT_JWKS=json.dumps({"keys": [jwk]}))
    payload = claims()
    token = jwt.encode(payload, private, "RS256", headers={"kid": "rsa-1"})
    assert str(auth.authenticate(f"Bearer {token}").id) == payload["sub"]
    # An RSA key accepts RS256 only: the same claims as HS256 keyed by the modulus fail.
    with pytest.raises(auth.Unauthorized):
        auth.authenticate("Bearer " + jwt.encode(payload, "secret" * 6, "HS256"))


def test_legacy_hs256_secret(env):
    secret = "a-very-long-supabase-jwt-secret-of-32+chars"
    env(SUPABASE_JWT_SECRET=secret, JWT_JWKS=None)
    payload = claims()
    assert (
        str(auth.authenticate("Bearer " + jwt.encode(payload, secret, "HS256")).id)
        == payload["sub"]
    )
    with pytest.raises(auth.Unauthorized):
        auth.authenticate(
            "Bearer " + jwt.encode(payload, "some-other-secret-entirely-32chars", "HS256")
        )


def test_keys_fetched_from_a_jwks_url_and_cached(env):
    key = devkeys.generate_private_jwk()
    requests = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            body = json.dumps(devkeys.public_jwks(key)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        env(
            JWT_JWKS=None,
            SUPABASE_JWKS_URL=f"http://127.0.0.1:{server.server_port}/auth/v1/.well-known/jwks.json",
        )
        for _ in range(3):
            payload = claims()
            assert str(auth.authenticate(f"Bearer {es256(key, payload)}").id) == payload["sub"]
        assert len(requests) == 1  # fetched once, then cached
        with pytest.raises(auth.Unauthorized):
            auth.authenticate(f"Bearer {es256(devkeys.generate_private_jwk(), claims())}")
    finally:
        server.shutdown()
