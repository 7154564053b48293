"""`/functions/v1/<name>`: forwards to the function's own process, headers passed through.

As in production, the function authenticates the caller itself; the gateway only routes.
"""

from __future__ import annotations

import http.client
import json
import urllib.parse

import flask

from shared import logs

# Hop-by-hop headers belong to one connection and are never forwarded (RFC 9110, 7.6.1).
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)
# The gateway's own server sets these on every response.
_OWN_RESPONSE_HEADERS = frozenset({"server", "date"})
_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
# Characters a path or query may carry as they are (RFC 3986 `pchar`, and `?` in a query; `%`
# keeps the client's own escapes). Anything else (a space, a control byte) is percent-encoded.
_PATH_SAFE = "/:@!$&'()*+,;=~"
_QUERY_SAFE = _PATH_SAFE + "?%"
TIMEOUT_SECONDS = 30


def blueprint(ports: dict[str, int], host: str = "127.0.0.1") -> flask.Blueprint:
    """`ports` maps the public name (`add-item`) to the port its process listens on."""
    bp = flask.Blueprint("functions", __name__, url_prefix="/functions/v1")

    @bp.route("/<name>", methods=_METHODS, defaults={"rest": ""})
    @bp.route("/<name>/<path:rest>", methods=_METHODS)
    def forward(name: str, rest: str):
        if name not in ports:
            return _error(404, "function_not_found", f"no function named {name!r}")
        request = flask.request
        # werkzeug hands over the path decoded (`a%20b` is `a b`), which http.client refuses to
        # send: encode it again, and the raw query too.
        path = "/" + urllib.parse.quote(rest, safe=_PATH_SAFE)
        if request.query_string:
            path += "?" + urllib.parse.quote_from_bytes(request.query_string, safe=_QUERY_SAFE)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        connection = http.client.HTTPConnection(host, ports[name], timeout=TIMEOUT_SECONDS)
        try:
            connection.request(request.method, path, body=request.get_data(), headers=headers)
            upstream = connection.getresponse()
            body = upstream.read()
        except OSError:
            return _error(502, "function_unavailable", f"function {name!r} is not reachable")
        finally:
            connection.close()
        kept = [
            (k, v)
            for k, v in upstream.getheaders()
            if k.lower() not in _HOP_BY_HOP and k.lower() not in _OWN_RESPONSE_HEADERS
        ]
        return flask.Response(body, upstream.status, headers=kept)

    return bp


def _error(status: int, code: str, message: str) -> flask.Response:
    """The functions' own error shape, so the frontend handles gateway errors the same way."""
    cid = logs.begin_invocation("gateway", flask.request.headers.get("X-Correlation-ID"))
    body = {"error": {"code": code, "message": message, "correlation_id": cid}}
    response = flask.Response(json.dumps(body), status, mimetype="application/json")
    response.headers["X-Correlation-ID"] = cid
    return response
