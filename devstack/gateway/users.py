"""Users and refresh tokens in `auth.users` / `auth.refresh_tokens` (devstack/sql/).

The gateway connects as the database owner here, as GoTrue does with its own role; the API roles
cannot read these tables.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid

from sqlalchemy import Connection, Engine, text

from devstack.gateway import passwords

_USER_COLUMNS = "id, email, raw_user_meta_data, created_at, updated_at, last_sign_in_at"


class Refused(Exception):
    """`code` is GoTrue's error code for the reason; the message is GoTrue's too."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


class SignUpRefused(Refused):
    pass


class RefreshRefused(Refused):
    pass


_NOT_FOUND = ("refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found")
_ALREADY_USED = ("refresh_token_already_used", "Invalid Refresh Token: Already Used")
_EXPIRED = ("session_expired", "Invalid Refresh Token: Session Expired")


def _token_hash(refresh_token: str) -> str:
    return hashlib.sha256(refresh_token.encode()).hexdigest()


def _user(row) -> dict:
    return {
        "id": str(row.id),
        "email": row.email,
        "user_metadata": row.raw_user_meta_data or {},
        "app_metadata": {"provider": "email", "providers": ["email"]},
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "last_sign_in_at": row.last_sign_in_at,
    }


def create(
    engine: Engine, email: str, password: str, metadata: dict, user_id: uuid.UUID | None = None
) -> dict:
    with engine.begin() as conn:
        row = conn.execute(
            text(
                "insert into auth.users (id, email, encrypted_password, raw_user_meta_data)"
                " values (coalesce(cast(:id as uuid), gen_random_uuid()), :email, :hash,"
                " cast(:meta as jsonb)) on conflict do nothing"
                f" returning {_USER_COLUMNS}"
            ),
            {
                "id": str(user_id) if user_id else None,
                "email": email,
                "hash": passwords.hash_password(password),
                "meta": json.dumps(metadata),
            },
        ).first()
    if row is None:
        raise SignUpRefused("user_already_exists", "User already registered")
    return _user(row)


def authenticate(engine: Engine, email: str, password: str) -> dict | None:
    """The user when the password matches, else None (same cost whether or not the email exists)."""
    with engine.connect() as conn:
        row = conn.execute(
            text(f"select {_USER_COLUMNS}, encrypted_password from auth.users where email = :e"),
            {"e": email},
        ).first()
    stored = row.encrypted_password if row else passwords.dummy_hash()
    if not passwords.verify_password(password, stored) or row is None:
        return None
    # The one moment the password is known: bring an older hash up to the current cost.
    rehashed = passwords.hash_password(password) if passwords.needs_rehash(stored) else None
    with engine.begin() as conn:
        row = conn.execute(
            text(
                "update auth.users set last_sign_in_at = now(),"
                " encrypted_password = coalesce(:hash, encrypted_password) where id = :id"
                f" returning {_USER_COLUMNS}"
            ),
            {"id": row.id, "hash": rehashed},
        ).first()
    return _user(row)


def by_id(engine: Engine, user_id: str) -> dict | None:
    with engine.connect() as conn:
        row = conn.execute(
            text(f"select {_USER_COLUMNS} from auth.users where id = cast(:id as uuid)"),
            {"id": user_id},
        ).first()
    return _user(row) if row else None


def start_session(engine: Engine, user_id: str) -> tuple[uuid.UUID, str]:
    """A new session and its first refresh token."""
    session_id = uuid.uuid4()
    with engine.begin() as conn:
        return session_id, _issue_refresh_token(conn, user_id, session_id)


def _issue_refresh_token(conn: Connection, user_id: str, session_id: uuid.UUID) -> str:
    token = secrets.token_urlsafe(24)
    conn.execute(
        text(
            "insert into auth.refresh_tokens (token_hash, user_id, session_id)"
            " values (:h, cast(:u as uuid), cast(:s as uuid))"
        ),
        {"h": _token_hash(token), "u": str(user_id), "s": str(session_id)},
    )
    return token


def rotate_refresh_token(
    engine: Engine, refresh_token: str, ttl_seconds: int
) -> tuple[dict, uuid.UUID, str]:
    """Spend a refresh token for a new one in the same session, or raise RefreshRefused.

    A spent token presented again means two parties hold it (a leak, or a theft): as GoTrue
    does, the whole session, every token rotated from that sign-in, is revoked, so the thief
    and the user both have to sign in again. GoTrue forgives a reuse within a few seconds
    (its reuse interval) by handing back the token that replaced it; only hashes are kept
    here, so there is no such interval: a client must not refresh one token twice (supabase-js
    never does). The row lock makes two concurrent refreshes of one token a reuse too.
    """
    refused = None
    with engine.begin() as conn:
        row = conn.execute(
            text(
                "select user_id, session_id, revoked,"
                " created_at < now() - make_interval(secs => :ttl) as expired"
                " from auth.refresh_tokens where token_hash = :h for update"
            ),
            {"h": _token_hash(refresh_token), "ttl": ttl_seconds},
        ).first()
        if row is None:
            refused = _NOT_FOUND
        elif row.revoked:
            conn.execute(
                text("update auth.refresh_tokens set revoked = true where session_id = :s"),
                {"s": row.session_id},
            )
            refused = _ALREADY_USED  # raised after the commit: the revocation must stay
        elif row.expired:
            refused = _EXPIRED
        else:
            conn.execute(
                text("update auth.refresh_tokens set revoked = true where token_hash = :h"),
                {"h": _token_hash(refresh_token)},
            )
            new_token = _issue_refresh_token(conn, str(row.user_id), row.session_id)
    user = by_id(engine, str(row.user_id)) if refused is None else None
    if user is None:
        raise RefreshRefused(*(refused or _NOT_FOUND))
    return user, row.session_id, new_token


def revoke(engine: Engine, user_id: str, session_id: str | None, scope: str) -> None:
    """GoTrue's logout scopes: `global` every session, `local` this one, `others` all but this.

    The tokens are deleted, as GoTrue deletes the sessions, so a later refresh with one is
    "not found" rather than a reuse.
    """
    condition = {
        "global": "true",
        "local": "session_id = cast(:s as uuid)",
        "others": "session_id <> cast(:s as uuid)",
    }[scope]
    with engine.begin() as conn:
        conn.execute(
            text(
                "delete from auth.refresh_tokens"
                f" where user_id = cast(:u as uuid) and {condition}"
            ),
            {"u": user_id, "s": session_id},
        )
