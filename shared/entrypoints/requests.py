"""Reading a command's request: the body within its size limit, parsed against its schema."""

from __future__ import annotations

import pydantic
from werkzeug.wrappers import Request

from shared.config import settings
from shared.errors import InvalidJson, PayloadTooLarge, ValidationFailed


def read_body(request: Request) -> bytes:
    limit = settings().max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"body exceeds {limit} bytes")
    raw = request.stream.read(limit + 1)
    if len(raw) > limit:
        raise PayloadTooLarge(f"body exceeds {limit} bytes")
    return raw


def validate(schema: type[pydantic.BaseModel], raw: bytes) -> pydantic.BaseModel:
    """The body as `schema`; no body at all means `{}`."""
    if not raw.strip():
        raw = b"{}"
    try:
        return schema.model_validate_json(raw)
    except pydantic.ValidationError as error:
        problems = error.errors(include_url=False, include_input=False)
        if problems[0]["type"] == "json_invalid":
            raise InvalidJson("request body is not valid JSON") from None
        fields = [
            {"field": ".".join(map(str, p["loc"])) or "body", "message": p["msg"]} for p in problems
        ]
        raise ValidationFailed(
            f"{fields[0]['field']}: {fields[0]['message']}",
            field=fields[0]["field"],
            fields=fields,
        ) from None


def platform_request_id(request: Request) -> str | None:
    """API Gateway's own request id (set by the Lambda adapter), so its logs and ours line up."""
    return request.environ.get("apig_wsgi.request_context", {}).get("requestId")
