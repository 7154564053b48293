"""Verifies Supabase-style access tokens, and trusts nothing in them it did not check.

Every key carries its own one-algorithm allow-list (EC P-256 -> ES256, RSA -> RS256, the legacy
shared secret -> HS256), so a token can never choose how it is checked: `alg: none` and HS256
signed with a public key both fail. Beyond the signature: the audience, the issuer (whenever one
is configured), `role: authenticated` (a service_role or anon token is not a shopper), a
canonical UUID subject, and a bounded lifetime (a stolen token minted to last for years is not
honoured). Each refusal is logged with its reason and answered 401 `unauthorized`.

A token checked with a key from the environment is remembered (`_VERDICTS`): in a drop one buyer
sends the same token with every click, and the ES256 check is the largest single cost of a
request's CPU. Only the environment's keys, which nothing but a new cold start can change, earn
this; keys fetched from SUPABASE_JWKS_URL are used afresh on every request, so a key rotated out
of the JWKS is still refused within JWKS_CACHE_SECONDS.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import threading
import time
import uuid
from dataclasses import dataclass

import jwt

from shared.config import settings
from shared.errors import Unauthorized

AUDIENCE = "authenticated"
ROLE = "authenticated"
LEEWAY_SECONDS = 5
_ALGORITHM_FOR_KEY_TYPE = {"EC": "ES256", "RSA": "RS256"}
# How Supabase writes a user id: lower-case hex, hyphenated; `{…}`, `urn:uuid:` or bare hex are
# other spellings of a UUID, never what a real token carries.
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class User:
    id: uuid.UUID
    email: str | None
    role: str


@dataclass(frozen=True)
class _Key:
    key: object
    algorithm: str
    from_environment: bool = True


class _Verdicts:
    """Tokens already verified, by their exact text (signature included), with their `exp`; the
    oldest is forgotten first beyond `size`. An entry never outlives its token: `exp` is checked
    again on every use."""

    def __init__(self, size: int):
        self.size = size
        self._users: dict[str, tuple[User, float]] = {}
        self._lock = threading.Lock()  # eviction iterates over the dict

    def get(self, token: str) -> tuple[User, float] | None:
        return self._users.get(token)

    def put(self, token: str, user: User, expires: float) -> None:
        with self._lock:
            while len(self._users) >= self.size:
                del self._users[next(iter(self._users))]
            self._users[token] = (user, expires)

    def __len__(self) -> int:
        return len(self._users)

    def cache_clear(self) -> None:
        """Forget every verdict, as a cold start does (tests that change the keys call it)."""
        with self._lock:
            self._users.clear()


_VERDICTS = _Verdicts(size=4096)  # a few MB at most: a token is under 1 KB
_clock = time.time  # a test may move it


def _public_key(jwk: dict) -> _Key:
    algorithm = _ALGORITHM_FOR_KEY_TYPE.get(jwk.get("kty", ""))
    if algorithm is None or jwk.get("alg", algorithm) != algorithm:
        raise ValueError(f"unsupported JWK: kty={jwk.get('kty')} alg={jwk.get('alg')}")
    return _Key(jwt.PyJWK(jwk, algorithm).key, algorithm)


@functools.cache
def _static_keys() -> tuple[dict[str | None, _Key], _Key | None]:
    """Keys from JWT_JWKS (a JWK or a JWKS document) and the legacy HS256 secret."""
    cfg = settings()
    by_kid: dict[str | None, _Key] = {}
    if cfg.jwt_jwks:
        document = json.loads(cfg.jwt_jwks)
        for jwk in document.get("keys", [document]):
            by_kid[jwk.get("kid")] = _public_key(jwk)
    secret = _Key(cfg.supabase_jwt_secret, "HS256") if cfg.supabase_jwt_secret else None
    return by_kid, secret


@functools.cache
def _jwks_client() -> jwt.PyJWKClient | None:
    """The JWKS at SUPABASE_JWKS_URL, the document cached for JWKS_CACHE_SECONDS.

    Only the document is cached (`cache_keys=False`): PyJWKClient's per-kid cache has no
    lifetime, so a key rotated out of the JWKS would stay trusted until a cold start. An unknown
    kid refetches the document, at most once per cooldown (30 s, or the cache lifetime when that
    is shorter), so tokens with made-up kids cannot turn every request into a fetch.
    """
    cfg = settings()
    if not cfg.supabase_jwks_url:
        return None
    return jwt.PyJWKClient(
        cfg.supabase_jwks_url,
        cache_keys=False,
        cache_jwk_set=True,
        lifespan=cfg.jwks_cache_seconds,
        cooldown_duration=min(30, cfg.jwks_cache_seconds),
        timeout=5,
    )


def _refuse(reason: str, public: str = "invalid token") -> Unauthorized:
    log.info("unauthorized: %s", reason, extra={"reason": reason})
    return Unauthorized(public)


def _key_for(header: dict) -> _Key:
    by_kid, secret = _static_keys()
    kid = header.get("kid")
    if header.get("alg") == "HS256":
        if secret is None:
            raise _refuse("HS256 token without a configured secret", "token algorithm not accepted")
        return secret
    if kid in by_kid:
        return by_kid[kid]
    if kid is None and len(by_kid) == 1:
        return next(iter(by_kid.values()))
    client = _jwks_client()
    if client is None or not isinstance(kid, str):
        raise _refuse(f"unknown signing key {kid!r}", "unknown signing key")
    try:
        signing_key = client.get_signing_key(kid)
    except Exception as error:  # unknown kid, unreachable or malformed JWKS: never a 500
        raise _refuse(f"JWKS: {type(error).__name__}: {error}", "unknown signing key") from error
    algorithm = _ALGORITHM_FOR_KEY_TYPE.get(signing_key.key_type)
    if algorithm is None:
        raise _refuse(f"JWKS key {kid!r} of type {signing_key.key_type}", "unsupported signing key")
    return _Key(signing_key.key, algorithm, from_environment=False)


def verify_token(token: str) -> User:
    remembered = _VERDICTS.get(token)
    if remembered is not None:
        user, expires = remembered
        if _clock() < expires + LEEWAY_SECONDS:
            return user
        raise _refuse("expired", "session expired, sign in again")
    cfg = settings()
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise _refuse(f"malformed token: {error}", "malformed token") from error
    key = _key_for(header)
    try:
        claims = jwt.decode(
            token,
            key.key,
            algorithms=[key.algorithm],
            audience=AUDIENCE,
            issuer=cfg.jwt_issuer,  # None: not checked
            options={"require": ["exp", "iat", "sub", "aud"]},
            leeway=LEEWAY_SECONDS,
        )
    except jwt.ExpiredSignatureError as error:
        raise _refuse("expired", "session expired, sign in again") from error
    except jwt.PyJWTError as error:
        raise _refuse(f"{type(error).__name__}: {error}") from error
    if claims.get("role") != ROLE:
        raise _refuse(f"role {claims.get('role')!r} is not {ROLE!r}", "token role not accepted")
    lifetime = max(claims["exp"] - claims["iat"], claims["exp"] - time.time())
    if lifetime > cfg.jwt_max_lifetime_seconds + LEEWAY_SECONDS:
        raise _refuse(f"lifetime {lifetime:.0f} s over JWT_MAX_LIFETIME_SECONDS")
    subject = claims["sub"]
    if not isinstance(subject, str) or not _CANONICAL_UUID.fullmatch(subject):
        raise _refuse(f"subject {subject!r} is not a canonical UUID", "invalid token subject")
    email = claims.get("email")
    user = User(id=uuid.UUID(subject), email=email if isinstance(email, str) else None, role=ROLE)
    if key.from_environment:
        _VERDICTS.put(token, user, claims["exp"])
    return user


def authenticate(authorization_header: str | None) -> User:
    scheme, _, token = (authorization_header or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _refuse("no bearer token", "missing bearer token")
    return verify_token(token.strip())
