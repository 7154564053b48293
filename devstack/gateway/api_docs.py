"""`/functions/v1/openapi.json` and `/functions/v1/docs`: the published contract, browsable.

The document is docs/openapi.json as checked in (tests/contract/ keeps it equal to the code).
The page is Swagger UI from frontend/node_modules, served by this gateway the way supabase-js is
(no CDN), under the same security headers as the shop: its policy needs nothing more.
"""

from __future__ import annotations

from pathlib import Path

import flask

from devstack.database import ROOT
from devstack.gateway.frontend import SECURITY_HEADERS

DOCUMENT = ROOT / "docs" / "openapi.json"
PAGES = Path(__file__).resolve().parent / "pages"


def blueprint(document: Path = DOCUMENT) -> flask.Blueprint:
    bp = flask.Blueprint("api_docs", __name__, url_prefix="/functions/v1")

    @bp.get("/openapi.json")
    def openapi():
        return flask.send_file(document, mimetype="application/json", max_age=0)

    @bp.get("/docs")
    def docs():
        return flask.send_from_directory(PAGES, "api-docs.html", max_age=0)

    @bp.get("/docs/api-docs.js")
    def docs_script():
        return flask.send_from_directory(PAGES, "api-docs.js", max_age=0)

    @bp.after_request
    def security_headers(response: flask.Response) -> flask.Response:
        response.headers.update(SECURITY_HEADERS)
        return response

    return bp
