"""Runs a functions-framework HTTP function on AWS Lambda, behind API Gateway or an ALB.

apig-wsgi turns the event (HTTP API v2, REST API v1 or ALB) into a WSGI request for a plain WSGI
app that sends every path and method to the function, as functions-framework does,
and turns the response back into the Lambda result (base64 when the body is binary). The
function body is the same on both platforms; only this entry point differs.

The functions are written against Werkzeug's Request and Response, which Flask's are
subclasses of, so this path imports Werkzeug alone: Flask brings Jinja2 and Click with it, a
tenth of a cold start's imports that a JSON function never uses (docs/deploy.md).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from apig_wsgi import make_lambda_handler
from werkzeug.wrappers import Request, Response

from shared.config import settings
from shared.errors import ConfigurationError

log = logging.getLogger(__name__)

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


def lambda_handler(function: Callable[[Request], Response]) -> LambdaHandler:
    """`handler(event, context)` for an HTTP function written for functions-framework."""

    def app(environ, start_response):  # every path and method, OPTIONS and GET included
        return function(Request(environ))(environ, start_response)

    read_settings_at_cold_start()
    return make_lambda_handler(app, binary_support=True)


def read_settings_at_cold_start() -> None:
    """Fetch the configuration during the init phase; a failure is logged, never raised.

    Raising here would fail the init and make Lambda retry it on every request (a crash loop);
    instead each request answers 503 configuration_error and tries again.
    """
    try:
        settings()
    except ConfigurationError as error:
        log.error("startup: configuration error: %s", error)
