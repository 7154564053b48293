"""What a token must say beyond its signature: issuer, role, subject, lifetime; and JWKS faults.

Real keys, the real PyJWT and a real HTTP server for the JWKS: no database.
"""

from __future__ import annotations

import http.server
import json
import threading
import time
import uuid

import jwt
import pytest

from devstack import devkeys
from shared.config import settings
from shared.entrypoints import auth
from shared.errors import ConfigurationError, Unauthorized

ISSUER = "https://project.supabase.co/auth/v1"


@pytest.fixture
def key() -> dict:
    return devkeys.generate_private_jwk()


@pytest.fixture
def configured(env, key):
    """`configured(NAME=value, OTHER=None)`: the auth settings of a fresh cold start."""
    env(
        JWT_JWKS=json.dumps(devkeys.public_jwks(key)),
        SUPABASE_JWKS_URL=None,
        SUPABASE_JWT_SECRET=None,
        SUPABASE_URL=None,
        JWT_ISSUER=None,
    )
    return env


def token(key: dict, **overrides) -> str:
    now = int(time.time())
    claims = {
        "sub": str(uuid.uuid4()),
        "aud": "authenticated",
        "role": "authenticated",
        "iat": now,
        "exp": now + 600,
        "iss": ISSUER,
        **overrides,
    }
    claims = {name: value for name, value in claims.items() if value is not None}
    signing_key = jwt.PyJWK(key, "ES256").key
    return jwt.encode(claims, signing_key, "ES256", headers={"kid": key["kid"]})


def refused(bearer: str, caplog) -> str:
    """The reason logged for refusing it (the 401 itself is raised as Unauthorized)."""
    caplog.clear()
    with caplog.at_level("INFO", logger="shared.entrypoints.auth"), pytest.raises(Unauthorized):
        auth.authenticate(f"Bearer {bearer}")
    [record] = [r for r in caplog.records if r.name == "shared.entrypoints.auth"]
    return record.reason


def test_the_issuer_is_checked_whenever_it_is_configured(configured, key, caplog):
    configured(JWT_ISSUER=ISSUER)
    assert auth.authenticate(f"Bearer {token(key)}").role == "authenticated"
    assert "iss" in refused(token(key, iss="https://evil.example/auth/v1"), caplog)
    assert "iss" in refused(token(key, iss=None), caplog)


def test_the_issuer_defaults_to_the_supabase_url(configured, key, caplog):
    configured(SUPABASE_URL="https://project.supabase.co/")
    assert settings().jwt_issuer == ISSUER
    auth.authenticate(f"Bearer {token(key)}")
    assert "iss" in refused(token(key, iss="https://evil.example"), caplog)


def test_without_an_issuer_configured_any_issuer_passes(configured, key):
    auth.authenticate(f"Bearer {token(key, iss='https://anything.example')}")


@pytest.mark.parametrize("role", ["service_role", "anon", None, ["authenticated"], ""])
def test_only_the_authenticated_role_is_a_shopper(configured, key, caplog, role):
    assert "role" in refused(token(key, role=role), caplog)


@pytest.mark.parametrize(
    "spelling",
    [
        lambda u: "{" + str(u) + "}",
        lambda u: f"urn:uuid:{u}",
        lambda u: u.hex,
        lambda u: str(u).upper(),
        lambda u: f" {u}",
        lambda u: 42,
    ],
)
def test_the_subject_must_be_a_canonical_uuid(configured, key, caplog, spelling):
    assert "subject" in refused(token(key, sub=spelling(uuid.uuid4())), caplog).lower()


def test_a_token_living_longer_than_the_maximum_is_refused(configured, key, caplog):
    now = int(time.time())
    assert "lifetime" in refused(token(key, exp=4102444800), caplog)  # the year 2100
    assert "lifetime" in refused(token(key, iat=now - 2 * 86400, exp=now + 60), caplog)
    auth.authenticate(f"Bearer {token(key, exp=now + 86000)}")  # under a day: fine
    configured(JWT_MAX_LIFETIME_SECONDS="3600")
    assert "lifetime" in refused(token(key, exp=now + 7200), caplog)
    auth.authenticate(f"Bearer {token(key, exp=now + 3000)}")


@pytest.mark.parametrize("secret", ["x", "s" * 31, "é" * 15])
def test_a_short_hs256_secret_is_a_configuration_error(configured, secret):
    configured(SUPABASE_JWT_SECRET=secret)
    with pytest.raises(ConfigurationError, match="SUPABASE_JWT_SECRET"):
        settings()


def test_a_32_byte_hs256_secret_is_accepted(configured):
    configured(SUPABASE_JWT_SECRET="é" * 16)
    assert settings().supabase_jwt_secret == "é" * 16


class Jwks:
    """A JWKS endpoint whose answer the test changes: a document, or any bytes at all."""

    def __init__(self):
        self.body, self.fetches = b"{}", 0
        jwks = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                jwks.fetches += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(jwks.body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/auth/v1/.well-known/jwks.json"

    def serve(self, *keys: dict) -> None:
        self.body = json.dumps({"keys": [devkeys.public_jwks(k)["keys"][0] for k in keys]}).encode()


@pytest.fixture
def jwks(configured):
    server = Jwks()
    configured(JWT_JWKS=None, SUPABASE_JWKS_URL=server.url, JWKS_CACHE_SECONDS="1")
    yield server
    server.server.shutdown()


def test_a_key_rotated_out_of_the_jwks_is_refused_within_the_cache_lifetime(jwks, caplog):
    old, new = devkeys.generate_private_jwk(), devkeys.generate_private_jwk()
    jwks.serve(old)
    auth.authenticate(f"Bearer {token(old)}")
    jwks.serve(new)  # rotated: the old key is gone from the document
    auth.authenticate(f"Bearer {token(old)}")  # still cached
    time.sleep(1.2)  # past JWKS_CACHE_SECONDS
    assert "JWKS" in refused(token(old), caplog)
    auth.authenticate(f"Bearer {token(new)}")


@pytest.mark.parametrize(
    "body", [b"<html>gateway timeout</html>", b"", b"[1, 2]", b'{"keys": "none"}', b"\xff"]
)
def test_a_broken_jwks_answer_is_a_clean_401(jwks, caplog, body):
    jwks.body = body
    assert "JWKS" in refused(token(devkeys.generate_private_jwk()), caplog)


def test_an_unreachable_jwks_is_a_clean_401(jwks, caplog):
    jwks.server.shutdown()
    jwks.server.server_close()
    assert "JWKS" in refused(token(devkeys.generate_private_jwk()), caplog)


@pytest.mark.parametrize("url", ["not a url", "ftp://example.com/jwks", "file:///etc/passwd"])
def test_a_misconfigured_jwks_url_is_a_configuration_error(configured, url):
    configured(JWT_JWKS=None, SUPABASE_JWKS_URL=url)
    with pytest.raises(ConfigurationError, match="SUPABASE_JWKS_URL"):
        auth.authenticate(f"Bearer {token(devkeys.generate_private_jwk())}")


# --- verdicts remembered per token ------------------------------------------------------------


def test_a_remembered_token_is_refused_once_it_expires(configured, key, caplog, monkeypatch):
    now = int(time.time())
    bearer = token(key, iat=now, exp=now + 600)
    auth.authenticate(f"Bearer {bearer}")
    # PyJWT reads the real clock and would accept it: only the remembered verdict sees this one
    monkeypatch.setattr(auth, "_clock", lambda: now + 600 + auth.LEEWAY_SECONDS + 1)
    assert refused(bearer, caplog) == "expired"


def test_a_new_environment_forgets_what_the_old_keys_verified(configured, key, caplog):
    bearer = token(key)
    auth.authenticate(f"Bearer {bearer}")
    configured(JWT_JWKS=json.dumps(devkeys.public_jwks(devkeys.generate_private_jwk())))
    assert "unknown signing key" in refused(bearer, caplog)


def test_remembered_verdicts_are_bounded_oldest_first(configured, key, monkeypatch):
    monkeypatch.setattr(auth._VERDICTS, "size", 2)
    first, second, third = (token(key) for _ in range(3))
    for bearer in (first, second, third):
        auth.authenticate(f"Bearer {bearer}")
    assert len(auth._VERDICTS) == 2
    assert auth._VERDICTS.get(first) is None and auth._VERDICTS.get(third) is not None


def test_a_token_checked_with_a_fetched_key_is_checked_again_after_rotation(jwks, caplog):
    old, new = devkeys.generate_private_jwk(), devkeys.generate_private_jwk()
    jwks.serve(old)
    bearer = token(old)
    auth.authenticate(f"Bearer {bearer}")
    assert auth._VERDICTS.get(bearer) is None  # fetched keys earn no remembered verdict
    jwks.serve(new)
    time.sleep(1.2)  # past JWKS_CACHE_SECONDS
    assert "JWKS" in refused(bearer, caplog)
