"""`/auth/v1`: the email/password subset of GoTrue, with the JSON shapes supabase-js expects.

Sign-ups are confirmed at once (as with "confirm email" off), so sign-up returns a session.
Errors use GoTrue's 2024-01-01 API shape: `{"code": "<error_code>", "msg": ...}` with the
`X-Supabase-Api-Version` header, which is how auth-js reads the error code.
"""

from __future__ import annotations

import json
import re
import time

import flask
from sqlalchemy import Engine
from werkzeug.exceptions import RequestEntityTooLarge

from devstack import settings
from devstack.gateway import tokens, users

API_VERSION = "2024-01-01"
MIN_PASSWORD_LENGTH = 6  # GoTrue's default
MAX_EMAIL_LENGTH = 320
# A sign-up is an email, a password and a little metadata: anything bigger is refused before it
# is read, so no request can keep a gateway thread (or, holding the GIL, all of them) busy.
MAX_BODY_BYTES = 16 * 1024
# user_metadata travels in every access token: 4 KiB keeps `Authorization: Bearer <token>`
# under the 8 KiB header limit of common servers (gunicorn's limit_request_field_size).
MAX_METADATA_BYTES = 4 * 1024
# Checked only after the length: each part is a run of characters that cannot also match the
# part after it, so the pattern never backtracks (the old `[^@\s]+\.[^@\s]+` was quadratic).
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s.]+(?:\.[^@\s.]+)+")
_LOGOUT_SCOPES = ("global", "local", "others")


class AuthError(Exception):
    def __init__(self, status: int, code: str, message: str, **extra):
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


def blueprint(engine: Engine, private_jwk: dict, issuer: str) -> flask.Blueprint:
    bp = flask.Blueprint("auth", __name__, url_prefix="/auth/v1")

    @bp.before_request
    def bounded_body():
        # A declared length is refused before reading; a chunked body is read one byte past the
        # limit at most, so that _body() can tell "too large" from "exactly the limit".
        flask.request.max_content_length = MAX_BODY_BYTES + 1
        if (flask.request.content_length or 0) > MAX_BODY_BYTES:
            raise RequestEntityTooLarge()

    def session_response(user: dict, session_id, refresh_token: str) -> flask.Response:
        token = tokens.access_token(private_jwk, user, session_id, issuer)
        ttl = tokens.ACCESS_TOKEN_TTL_SECONDS
        return _json(
            {
                "access_token": token,
                "token_type": "bearer",
                "expires_in": ttl,
                "expires_at": int(time.time()) + ttl,
                "refresh_token": refresh_token,
                "user": user_json(user),
            }
        )

    def signed_in_claims() -> dict:
        token = tokens.bearer(flask.request.headers.get("Authorization"))
        if token is None:
            raise AuthError(401, "no_authorization", "This endpoint requires a valid Bearer token")
        try:
            claims = tokens.verify(token, private_jwk)
        except tokens.InvalidToken as error:
            raise AuthError(403, "bad_jwt", f"invalid JWT: {error}") from error
        if claims["role"] != "authenticated":
            raise AuthError(403, "bad_jwt", "invalid JWT: not a user's token")
        return claims

    @bp.post("/signup")
    def signup():
        body = _body()
        email, password = _email(body), _password(body)
        if len(password) < MIN_PASSWORD_LENGTH:
            raise AuthError(
                422,
                "weak_password",
                f"Password should be at least {MIN_PASSWORD_LENGTH} characters.",
                weak_password={"reasons": ["length"]},
            )
        metadata = _metadata(body)
        try:
            user = users.create(engine, email, password, metadata)
        except users.SignUpRefused as refused:
            raise AuthError(422, refused.code, str(refused)) from refused
        return session_response(user, *users.start_session(engine, user["id"]))

    @bp.post("/token")
    def token():
        grant_type = flask.request.args.get("grant_type")
        body = _body()
        if grant_type == "password":
            user = users.authenticate(engine, _email(body), _password(body))
            if user is None:
                raise AuthError(400, "invalid_credentials", "Invalid login credentials")
            return session_response(user, *users.start_session(engine, user["id"]))
        if grant_type == "refresh_token":
            refresh_token = body.get("refresh_token")
            refresh_token = refresh_token if isinstance(refresh_token, str) else ""
            try:
                rotated = users.rotate_refresh_token(
                    engine, refresh_token, settings.refresh_token_ttl_seconds()
                )
            except users.RefreshRefused as refused:
                raise AuthError(400, refused.code, str(refused)) from refused
            return session_response(*rotated)
        raise AuthError(400, "unsupported_grant_type", "unsupported_grant_type")

    @bp.get("/user")
    def user():
        claims = signed_in_claims()
        found = users.by_id(engine, claims["sub"])
        if found is None:
            raise AuthError(403, "user_not_found", "User from sub claim in JWT does not exist")
        return _json(user_json(found))

    @bp.post("/logout")
    def logout():
        claims = signed_in_claims()
        scope = flask.request.args.get("scope", "global")
        if scope not in _LOGOUT_SCOPES:
            raise AuthError(400, "validation_failed", "Unsupported logout scope")
        users.revoke(engine, claims["sub"], claims.get("session_id"), scope)
        return flask.Response(status=204)

    @bp.get("/.well-known/jwks.json")
    def jwks():
        public = {k: v for k, v in private_jwk.items() if k != "d"}
        return _json({"keys": [public]})

    @bp.errorhandler(AuthError)
    def auth_error(error: AuthError):
        body = {"code": error.code, "error_code": error.code, "msg": error.message, **error.extra}
        return _json(body, error.status)

    @bp.errorhandler(RequestEntityTooLarge)
    def too_large(error: RequestEntityTooLarge):
        message = f"Request body too large: at most {MAX_BODY_BYTES} bytes"
        return auth_error(AuthError(413, "validation_failed", message))

    return bp


def user_json(user: dict) -> dict:
    created = user["created_at"].isoformat()
    last = user["last_sign_in_at"]
    return {
        "id": user["id"],
        "aud": "authenticated",
        "role": "authenticated",
        "email": user["email"],
        "email_confirmed_at": created,
        "confirmed_at": created,
        "phone": "",
        "last_sign_in_at": last.isoformat() if last else None,
        "app_metadata": user["app_metadata"],
        "user_metadata": user["user_metadata"],
        "identities": [],
        "created_at": created,
        "updated_at": user["updated_at"].isoformat(),
        "is_anonymous": False,
    }


def _json(payload: dict, status: int = 200) -> flask.Response:
    response = flask.jsonify(payload)
    response.status_code = status
    response.headers["X-Supabase-Api-Version"] = API_VERSION
    return response


def _body() -> dict:
    if len(flask.request.get_data()) > MAX_BODY_BYTES:
        raise RequestEntityTooLarge()
    try:
        body = flask.request.get_json(silent=True)
    except RecursionError:  # nested thousands deep: not JSON anyone means to send
        body = None
    if not isinstance(body, dict):
        raise AuthError(400, "bad_json", "Could not parse request body as JSON")
    return body


def _email(body: dict) -> str:
    email = body.get("email")
    email = email.strip().lower() if isinstance(email, str) else ""
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.fullmatch(email):
        raise AuthError(
            400, "validation_failed", "Unable to validate email address: invalid format"
        )
    return email


def _metadata(body: dict) -> dict:
    metadata = body.get("data") if isinstance(body.get("data"), dict) else {}
    # Measured as the token carries it (PyJWT's compact, ASCII-escaped JSON).
    if len(json.dumps(metadata, separators=(",", ":"))) > MAX_METADATA_BYTES:
        raise AuthError(
            400,
            "validation_failed",
            f"User metadata is too large: at most {MAX_METADATA_BYTES} bytes of JSON",
        )
    return metadata


def _password(body: dict) -> str:
    password = body.get("password")
    if not isinstance(password, str) or not password:
        raise AuthError(400, "validation_failed", "Password is required")
    if len(password) > 72:  # GoTrue's (bcrypt's) limit, kept so behaviour matches production
        raise AuthError(422, "weak_password", "Password cannot be longer than 72 characters")
    return password
