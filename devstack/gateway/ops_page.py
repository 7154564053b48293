"""`/ops`: the functions' figures on the local stack, the way the CloudWatch dashboard shows
them on AWS. The page polls `/ops/figures.json`, which the stack keeps from the functions' own
log lines (devstack/ops.py); it is served under the shop's security headers.
"""

from __future__ import annotations

from pathlib import Path

import flask

from devstack import ops
from devstack.gateway.frontend import SECURITY_HEADERS

PAGES = Path(__file__).resolve().parent / "pages"
_FILES = {"ops.js": "text/javascript", "ops.css": "text/css"}


def blueprint(figures: ops.Figures) -> flask.Blueprint:
    bp = flask.Blueprint("ops", __name__, url_prefix="/ops")

    @bp.get("")
    @bp.get("/")
    def page():
        return flask.send_from_directory(PAGES, "ops.html", max_age=0)

    @bp.get("/figures.json")
    def figures_json():
        response = flask.jsonify(figures.snapshot())
        response.headers["Cache-Control"] = "no-store"
        return response

    @bp.get("/<name>")
    def asset(name: str):
        if name not in _FILES:
            flask.abort(404)
        return flask.send_from_directory(PAGES, name, mimetype=_FILES[name], max_age=0)

    @bp.after_request
    def security_headers(response: flask.Response) -> flask.Response:
        response.headers.update(SECURITY_HEADERS)
        return response

    return bp
