"""The failures in the API document: which codes each route answers, and their body shapes.

From the error table (shared/errors.py): a command answers every row that is not a domain rule
(the wrapper's failures) and the domain refusals its use case names (`REFUSALS`); a job answers
only the 5xx of the machinery it runs on. A new row, named by a use case when it is a domain
refusal, is all `make openapi` needs.
"""

from __future__ import annotations

from collections.abc import Mapping

from shared import errors
from shared.domain import DomainError
from shared.entrypoints.contract import Contract

ErrorTable = Mapping[type[Exception], errors.Failure]
Row = tuple[type[Exception] | None, errors.Failure]
JSON = "application/json"
RETRY_AFTER = {
    "description": "Seconds to wait before trying again.",
    "schema": {"type": "integer", "minimum": 1},
}


def ref(name: str, kind: str = "schemas") -> dict:
    return {"$ref": f"#/components/{kind}/{name}"}


def failures(contract: Contract, table: ErrorTable = errors.ERROR_TABLE) -> list[Row]:
    """What a route can answer besides 200, one entry per code, by status.

    A command answers every failure of the wrapper (each row that is not a domain rule; 405 only
    to other methods, so not here) and the refusals its use case names; a job answers only the
    failures of the machinery it runs on (5xx). Every route can answer 500 `internal`.
    """
    rows: dict[str, Row] = {}
    for cls, failure in table.items():
        if contract.request is None:
            wanted = failure.status >= 500 and not issubclass(cls, DomainError)
        elif issubclass(cls, DomainError):
            wanted = issubclass(cls, contract.refusals)
        else:
            wanted = not issubclass(cls, errors.MethodNotAllowed)
        if wanted:
            rows.setdefault(failure.code, (cls, failure))
    rows.setdefault(errors.INTERNAL.code, (None, errors.INTERNAL))
    return sorted(rows.values(), key=lambda row: (row[1].status, row[1].code))


def responses(rows: list[Row], replayable: bool) -> dict:
    """The error responses of an operation, one per status, each listing its codes."""
    by_status: dict[int, list[errors.Failure]] = {}
    for _, failure in rows:
        by_status.setdefault(failure.status, []).append(failure)
    found = {}
    for status, failures_of_status in by_status.items():
        headers = {"X-Correlation-ID": ref("X-Correlation-ID", "headers")}
        if replayable and any(f.stored for f in failures_of_status):
            headers["Idempotent-Replayed"] = ref("Idempotent-Replayed", "headers")
        if any(f.retry_after_seconds is not None for f in failures_of_status):
            # Inline (a reference takes no `required`): required when every code here sends it.
            required = all(f.retry_after_seconds is not None for f in failures_of_status)
            headers["Retry-After"] = {**RETRY_AFTER, "required": required}
        schemas_of_status = [ref(f"error.{f.code}") for f in failures_of_status]
        schema = (
            schemas_of_status[0] if len(schemas_of_status) == 1 else {"oneOf": schemas_of_status}
        )
        found[str(status)] = {
            "description": "; ".join(f"`{f.code}`: {f.when}" for f in failures_of_status),
            "headers": headers,
            "content": {JSON: {"schema": schema}},
        }
    return found


def schemas(table: ErrorTable) -> dict:
    """One schema per code of the error table (405 and 500 included), and the shape they share."""
    rows = {f.code: (cls, f) for cls, f in table.items()}
    rows.setdefault(errors.INTERNAL.code, (None, errors.INTERNAL))
    details = {
        name: {"type": kind, "description": meaning}
        for _, failure in rows.values()
        for name, kind, meaning in failure.details
    }
    schemas = {
        "ErrorDetail": {
            "type": "object",
            "description": "Every error body's one member. `field` and `fields` come with "
            "`validation_error` only: the first problem, then all of them; the other optional "
            "members come with the codes whose schema requires them.",
            "required": ["code", "message", "correlation_id"],
            "additionalProperties": False,
            "properties": {
                "code": {"type": "string", "enum": sorted(rows)},
                "message": {"type": "string"},
                "correlation_id": {"type": "string"},
                "field": {"type": "string"},
                "fields": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["field", "message"],
                        "additionalProperties": False,
                        "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                    },
                },
                **details,
            },
        }
    }
    for code, (cls, failure) in sorted(rows.items(), key=lambda item: (item[1][1].status, item[0])):
        notes = [f"{failure.status}: {failure.when}."]
        if failure.stored:
            notes.append("Stored as the answer of the request's Idempotency-Key.")
        if failure.retry_after_seconds is not None:
            notes.append(f"Sent with `Retry-After: {failure.retry_after_seconds}`.")
        if cls is not None and issubclass(cls, errors.MethodNotAllowed):
            notes.append("Sent with `Allow: POST, OPTIONS`.")
        schemas[f"error.{code}"] = {
            "title": code,
            "description": " ".join(notes),
            "type": "object",
            "required": ["error"],
            "additionalProperties": False,
            "properties": {
                "error": {
                    **ref("ErrorDetail"),
                    "properties": {"code": {"const": code}},
                    **({"required": [n for n, _, _ in failure.details]} if failure.details else {}),
                }
            },
        }
    return schemas


def overview(table: ErrorTable) -> str:
    rows = {f.code: f for f in table.values()}
    rows.setdefault(errors.INTERNAL.code, errors.INTERNAL)
    lines = [
        "Every command is a `POST` with a JSON body, authenticated with a bearer token. Reads "
        "(products, the cart, orders) are not here: the browser reads them from PostgREST "
        "through Row Level Security.",
        "",
        "Every answer carries `X-Correlation-ID`; every error is "
        '`{"error": {"code", "message", "correlation_id"}}` with a stable `code`. A refused '
        "command writes nothing. `OPTIONS` answers the CORS preflight; any other method "
        "answers 405 `method_not_allowed` with `Allow: POST, OPTIONS`.",
        "",
        "| status | code | when |",
        "| --- | --- | --- |",
    ]
    for code, failure in sorted(rows.items(), key=lambda item: (item[1].status, item[0])):
        lines.append(f"| {failure.status} | `{code}` | {failure.when} |")
    return "\n".join(lines)
