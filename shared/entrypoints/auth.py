"""Verifies Supabase-style access tokens.

Every key carries its own one-algorithm allow-list (EC P-256 -> ES256, RSA -> RS256, the legacy
shared secret -> HS256), so a token can never choose how it is checked: `alg: none` and HS256
signed with a public key both fail.
"""

from __future__ import annotations

import functools
import json
import uuid
from dataclasses import dataclass

import jwt

from shared.config import settings
from shared.errors import Unauthorized

AUDIENCE = "authenticated"
_ALGORITHM_FOR_KEY_TYPE = {"EC": "ES256", "RSA": "RS256"}


@dataclass(frozen=True)
class User:
    id: uuid.UUID
    email: str | None
    role: str


@dataclass(frozen=True)
class _Key:
    key: object
    algorithm: str


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
    url = settings().supabase_jwks_url
    # PyJWKClient caches the document and refetches when it meets an unknown kid.
    return jwt.PyJWKClient(url, cache_keys=True, lifespan=600, timeout=5) if url else None


def _key_for(header: dict) -> _Key:
    by_kid, secret = _static_keys()
    kid = header.get("kid")
    if header.get("alg") == "HS256":
        if secret is None:
            raise Unauthorized("token algorithm not accepted")
        return secret
    if kid in by_kid:
        return by_kid[kid]
    if kid is None and len(by_kid) == 1:
        return next(iter(by_kid.values()))
    client = _jwks_client()
    if client is not None and kid is not None:
        try:
            signing_key = client.get_signing_key(kid)
        except jwt.PyJWKClientError as error:
            raise Unauthorized("unknown signing key") from error
        algorithm = _ALGORITHM_FOR_KEY_TYPE.get(signing_key.key_type)
        if algorithm is None:
            raise Unauthorized("unsupported signing key")
        return _Key(signing_key.key, algorithm)
    raise Unauthorized("unknown signing key")


def verify_token(token: str) -> User:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise Unauthorized("malformed token") from error
    key = _key_for(header)
    try:
        claims = jwt.decode(
            token,
            key.key,
            algorithms=[key.algorithm],
            audience=AUDIENCE,
            options={"require": ["exp", "sub", "aud"]},
            leeway=5,
        )
    except jwt.ExpiredSignatureError as error:
        raise Unauthorized("session expired, sign in again") from error
    except jwt.PyJWTError as error:
        raise Unauthorized("invalid token") from error
    try:
        user_id = uuid.UUID(str(claims["sub"]))
    except ValueError as error:
        raise Unauthorized("invalid token subject") from error
    return User(id=user_id, email=claims.get("email"), role=claims.get("role", ""))


def authenticate(authorization_header: str | None) -> User:
    scheme, _, token = (authorization_header or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("missing bearer token")
    return verify_token(token.strip())
