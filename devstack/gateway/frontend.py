"""`/`: the shop's static files and its generated `config.js`, with the security headers.

A page cannot forbid framing (`frame-ancestors`) or sniffing through a meta tag, so whatever
serves it must send these headers; docs/frontend-and-devstack.md lists the same set for the
production static host. The policy here allows what the page needs on this stack: its own
scripts, styles and images, and calls to this origin (`/rest/v1`, `/auth/v1`, `/functions/v1`).
"""

from __future__ import annotations

from pathlib import Path

import flask

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def blueprint(frontend_dir: Path, config_script: str) -> flask.Blueprint:
    bp = flask.Blueprint("frontend", __name__)

    @bp.get("/config.js")
    def config():
        return flask.Response(
            config_script, mimetype="text/javascript", headers={"Cache-Control": "no-store"}
        )

    @bp.get("/", defaults={"path": "index.html"})
    @bp.get("/<path:path>")
    def files(path: str):
        return flask.send_from_directory(frontend_dir, path, max_age=0)

    @bp.after_request
    def security_headers(response: flask.Response) -> flask.Response:
        response.headers.update(SECURITY_HEADERS)
        return response

    return bp
