"""CORS for the shop page: answer the preflight, and let the page read our own headers."""

from __future__ import annotations

from werkzeug.wrappers import Request, Response

from shared.config import settings
from shared.errors import ConfigurationError

ALLOWED_HEADERS = "Authorization, Content-Type, X-Correlation-ID, Idempotency-Key"
EXPOSED_HEADERS = "X-Correlation-ID, Idempotent-Replayed, Retry-After"
ALLOWED_METHODS = "POST, OPTIONS"


def add_headers(request: Request, response: Response) -> None:
    origin = request.headers.get("Origin")
    response.vary.add("Origin")
    try:
        allowed = settings().allowed_origins
    except ConfigurationError:
        return  # already answered 503; no origin is known to be allowed
    if not origin or not (origin in allowed or "*" in allowed):
        return
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
        response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        response.headers["Access-Control-Max-Age"] = "600"
