"""`/rest/v1/<table or view>`: reads exactly as PostgREST runs them; writes are refused.

Per request: verify the JWT (or the anon key), then in one read-only transaction check the
relation and its columns against the catalogue, `SET LOCAL ROLE` to the token's API role, set
`request.jwt.claims` for `auth.uid()`, and run one parameterized SELECT. Row Level Security, not
this code, decides which rows come back.
"""

from __future__ import annotations

import json
import logging

import flask
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from devstack.gateway import query, tokens
from shared.adapters.postgres.connection import sqlstate

log = logging.getLogger("devstack.gateway.rest")

_OBJECT = "application/vnd.pgrst.object+json"
_ARRAY_TYPES = ("application/json", "application/vnd.pgrst.array+json", "*/*")
_WRITES = ("POST", "PATCH", "PUT", "DELETE")
_CATALOGUE = text(
    "select a.attname from pg_catalog.pg_class c"
    " join pg_catalog.pg_namespace n on n.oid = c.relnamespace"
    " join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attnum > 0"
    " and not a.attisdropped"
    " where n.nspname = 'public' and c.relname = :relation and c.relkind in ('r','v','m','f','p')"
)
# The role names come from tokens.API_ROLES, never from the request, so they can be literals.
_SET_ROLE = {role: text(f"set local role {role}") for role in tokens.API_ROLES}


def blueprint(engine: Engine, private_jwk: dict) -> flask.Blueprint:
    bp = flask.Blueprint("rest", __name__, url_prefix="/rest/v1")

    @bp.route("/<relation>", methods=["GET", *_WRITES])
    def read(relation: str):
        if flask.request.method in _WRITES:
            raise query.QueryError(
                405, "read_only", "this API is read-only: writes go through the functions"
            )
        _check_profile(flask.request.headers)
        single = _wants_single_object(flask.request.headers.get("Accept"))
        claims = _claims(flask.request.headers, private_jwk)
        parsed = query.parse(list(flask.request.args.items(multi=True)))
        body, count = _run(engine, relation, parsed, claims, single)
        if single and count != 1:
            raise query.QueryError(
                406,
                "PGRST116",
                "JSON object requested, multiple (or no) rows returned",
                f"The result contains {count} rows",
            )
        first = parsed.offset
        response = flask.Response(body, 200, content_type=_content_type(single))
        response.headers["Content-Range"] = f"{first}-{first + count - 1}/*" if count else "*/*"
        return response

    @bp.errorhandler(query.QueryError)
    def refused(error: query.QueryError):
        response = flask.Response(json.dumps(error.as_json()), error.status)
        response.content_type = "application/json; charset=utf-8"
        if error.status == 405:
            response.headers["Allow"] = "GET, HEAD"
        return response

    return bp


def _run(engine: Engine, relation: str, parsed: query.ReadQuery, claims: dict, single: bool):
    with engine.connect() as conn, conn.begin():
        conn.execute(text("set transaction read only"))
        columns = frozenset(conn.execute(_CATALOGUE, {"relation": relation}).scalars())
        if not columns:
            raise query.QueryError(
                404,
                "PGRST205",
                f"Could not find the table 'public.{relation}' in the schema cache",
            )
        sql, params = query.to_sql(relation, parsed, columns, single)
        conn.execute(text("set local statement_timeout = '5s'"))
        conn.execute(
            text("select set_config('request.jwt.claims', :claims, true)"),
            {"claims": json.dumps(claims)},
        )
        conn.execute(_SET_ROLE[claims["role"]])
        try:
            body, count = conn.execute(text(sql), params).one()
        except DBAPIError as error:
            raise _database_error(error, claims["role"]) from error
    return (body if body is not None else "null"), count


def _database_error(error: DBAPIError, role: str) -> query.QueryError:
    """PostgREST's mapping of SQLSTATEs to statuses, without echoing the statement."""
    code = sqlstate(error) or "XX000"
    if code == "42501":
        status = 401 if role == "anon" else 403
        return query.QueryError(status, code, "permission denied for this relation")
    if code.startswith("22") or code.startswith("42"):
        details = error.orig.args[0] if error.orig and error.orig.args else None
        message = details.get("M") if isinstance(details, dict) else None
        return query.QueryError(400, code, message or "invalid request")
    log.error("read failed: %s", code)
    return query.QueryError(500, code, "the read failed")


def _claims(headers, private_jwk: dict) -> dict:
    """The Authorization bearer's claims, or the anon key's when there is no bearer token."""
    token = tokens.bearer(headers.get("Authorization")) or headers.get("apikey", "")
    try:
        return tokens.verify(token, private_jwk)
    except tokens.ExpiredToken as error:
        raise query.QueryError(401, "PGRST303", "JWT expired") from error
    except tokens.InvalidToken as error:
        raise query.QueryError(401, "PGRST301", str(error)) from error


def _check_profile(headers) -> None:
    profile = headers.get("Accept-Profile")
    if profile not in (None, "public"):
        raise query.QueryError(
            406, "PGRST106", "The schema must be one of the following: public", None
        )


def _wants_single_object(accept: str | None) -> bool:
    media_types = [part.split(";")[0].strip().lower() for part in (accept or "*/*").split(",")]
    if _OBJECT in media_types:
        return True
    if any(media in _ARRAY_TYPES or not media for media in media_types):
        return False
    raise query.QueryError(406, "PGRST107", f"None of these media types are available: {accept}")


def _content_type(single: bool) -> str:
    return f"{_OBJECT}; charset=utf-8" if single else "application/json; charset=utf-8"
