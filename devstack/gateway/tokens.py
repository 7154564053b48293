"""The JWTs of the local stack: the anon key, access tokens, and checking both.

Everything is signed with the dev ES256 key the functions are configured with, so an access token
minted here is accepted by the functions exactly as a Supabase one is in production.
"""

from __future__ import annotations

import time
import uuid

import jwt

from devstack import devkeys

ACCESS_TOKEN_TTL_SECONDS = 3600
ANON_KEY_TTL_SECONDS = 10 * 365 * 24 * 3600
# The roles a request may switch to: the two API roles of a Supabase project, nothing else.
API_ROLES = frozenset({"anon", "authenticated"})


class InvalidToken(Exception):
    """The token is not one this stack issued, or no longer valid; the message is safe to show."""


class ExpiredToken(InvalidToken):
    pass


def anon_key(private_jwk: dict) -> str:
    """What Supabase calls the anon key: a long-lived JWT whose only power is `role: anon`."""
    now = int(time.time())
    claims = {"iss": "devstack", "role": "anon", "iat": now, "exp": now + ANON_KEY_TTL_SECONDS}
    key = jwt.PyJWK(private_jwk, "ES256").key
    return jwt.encode(claims, key, algorithm="ES256", headers={"kid": private_jwk["kid"]})


def access_token(private_jwk: dict, user: dict, session_id: uuid.UUID, issuer: str) -> str:
    """GoTrue's access token claims for a password sign-in."""
    return devkeys.mint_token(
        private_jwk,
        user["id"],
        user["email"],
        ttl_seconds=ACCESS_TOKEN_TTL_SECONDS,
        iss=issuer,
        phone="",
        app_metadata=user["app_metadata"],
        user_metadata=user["user_metadata"],
        aal="aal1",
        amr=[{"method": "password", "timestamp": int(time.time())}],
        session_id=str(session_id),
        is_anonymous=False,
    )


def verify(token: str, private_jwk: dict) -> dict:
    """The claims of a token this stack signed; ES256 only, audience checked for users."""
    public = jwt.PyJWK({k: v for k, v in private_jwk.items() if k != "d"}, "ES256").key
    try:
        claims = jwt.decode(
            token,
            public,
            algorithms=["ES256"],
            options={"require": ["exp", "role"], "verify_aud": False},
            leeway=5,
        )
    except jwt.ExpiredSignatureError as error:
        raise ExpiredToken("token has expired") from error
    except jwt.PyJWTError as error:
        raise InvalidToken("invalid token") from error
    role = claims["role"]
    # Any JSON can sit in a signed claim: a list or an object is refused, not looked up.
    if not isinstance(role, str) or role not in API_ROLES:
        raise InvalidToken("token role not accepted")
    if role == "authenticated":
        # Only the anon key may lack an audience; a user's token must be for `authenticated`.
        if claims.get("aud") != "authenticated":
            raise InvalidToken("invalid token audience")
        try:
            uuid.UUID(str(claims.get("sub")))
        except ValueError as error:
            raise InvalidToken("invalid token subject") from error
    return claims


def bearer(authorization_header: str | None) -> str | None:
    scheme, _, token = (authorization_header or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None
