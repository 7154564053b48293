"""The gateway's WSGI app: Supabase's URL layout on one local port.

Like Supabase's API gateway (Kong), `/rest/v1` and `/auth/v1` want a valid `apikey` header; the
functions check their own bearer token, and the frontend's files are public.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import flask
from sqlalchemy import Engine
from werkzeug.exceptions import HTTPException

from devstack import ops
from devstack.gateway import api_docs, auth, frontend, functions, ops_page, rest, tokens

log = logging.getLogger("devstack.gateway")
_KEYLESS = ("/auth/v1/.well-known/jwks.json",)


def create_app(
    engine: Engine,
    private_jwk: dict,
    public_url: str,
    function_ports: dict[str, int],
    frontend_dir: Path,
    figures: ops.Figures | None = None,
) -> flask.Flask:
    app = flask.Flask("devstack.gateway", static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    anon_key = tokens.anon_key(private_jwk)
    app.register_blueprint(rest.blueprint(engine, private_jwk))
    app.register_blueprint(auth.blueprint(engine, private_jwk, issuer=f"{public_url}/auth/v1"))
    app.register_blueprint(api_docs.blueprint())
    app.register_blueprint(ops_page.blueprint(figures or ops.Figures()))
    app.register_blueprint(functions.blueprint(function_ports))
    app.register_blueprint(frontend.blueprint(frontend_dir, config_script(public_url, anon_key)))

    @app.before_request
    def require_api_key():
        path = flask.request.path
        if not path.startswith(("/rest/v1/", "/auth/v1/")) or path in _KEYLESS:
            return None
        key = flask.request.headers.get("apikey")
        if not key:
            return _kong_error("No API key found in request")
        try:
            claims = tokens.verify(key, private_jwk)
        except tokens.InvalidToken:
            return _kong_error("Invalid API key")
        return None if claims["role"] == "anon" else _kong_error("Invalid API key")

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        if isinstance(error, HTTPException):
            return error
        log.exception("gateway error on %s %s", flask.request.method, flask.request.path)
        body = {"code": "internal", "message": "internal error", "msg": "internal error"}
        return flask.Response(json.dumps(body), 500, mimetype="application/json")

    return app


def config_script(public_url: str, anon_key: str) -> str:
    """frontend/config.js for this stack (see frontend/config.example.js for production)."""
    settings = {
        "supabaseUrl": public_url,
        "supabaseAnonKey": anon_key,
        "functionsBaseUrl": f"{public_url}/functions/v1",
        "currency": "EUR",
    }
    return (
        "// The local stack's settings, written by `make run` and served by devstack's gateway.\n"
        "// Do not edit or commit; see config.example.js for what production sets.\n"
        f"window.SHOP_CONFIG = {json.dumps(settings, indent=2)};\n"
    )


def _kong_error(message: str) -> flask.Response:
    return flask.Response(json.dumps({"message": message}), 401, mimetype="application/json")
