"""docs/openapi.json: the functions' HTTP contract as an OpenAPI 3.1 document, from the code.

Every fact comes from the one place the code keeps it: routes and schedules from the registry,
bodies from the models each endpoint is built with (`endpoint.contract`), failures from the error
table and the refusals each use case names (functions/api_errors.py), header rules from the
modules that apply them. `tests/contract/` fails when the checked-in file is stale.

    python -m functions.openapi           # rewrite docs/openapi.json (`make openapi`)
    python -m functions.openapi --check   # exit 1 when docs/openapi.json is stale
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from devstack.settings import DEFAULT_FUNCTIONS_PORT
from functions import api_errors, registry
from functions.api_errors import JSON, ErrorTable, ref
from shared import errors, logs
from shared.entrypoints.contract import Contract
from shared.service import idempotency

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = ROOT / "docs" / "openapi.json"
LOCAL_PREFIX = "/functions/v1"  # where the local gateway serves the commands (devstack/gateway)


def contracts() -> dict[registry.Function, Contract]:
    """Each function's contract, read from the endpoint its main.py builds."""
    found = {}
    for function in registry.FUNCTIONS:
        module = importlib.import_module(f"functions.{function.name}.main")
        found[function] = getattr(module, function.name).contract
    return found


def document(
    found: Mapping[registry.Function, Contract] | None = None,
    table: ErrorTable = errors.ERROR_TABLE,
) -> dict:
    found = contracts() if found is None else found
    models = {c.answer for c in found.values()} | {c.request for c in found.values() if c.request}
    paths = {}
    for function, contract in found.items():
        if function.route:
            paths[f"/{function.route}"] = {"post": _command(function, contract, table)}
        else:
            paths[f"/{function.deployed_name}"] = _job(function, contract, table)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Shopping System functions",
            "version": _version(),
            "summary": "The commands that change carts and orders; reads go to PostgREST.",
            "description": api_errors.overview(table),
        },
        "servers": [
            {"url": LOCAL_PREFIX, "description": "The local stack (make run): its gateway"},
            {
                "url": "https://{api}.execute-api.{region}.amazonaws.com",
                "description": "AWS (serverless.yml): the HTTP API's default stage",
                "variables": {
                    "api": {"default": "api-id", "description": "the HTTP API's id"},
                    "region": {"default": "eu-west-1"},
                },
            },
        ],
        "security": [{"bearer": []}],
        "tags": [
            {"name": "commands", "description": "What a shopper's client calls."},
            {
                "name": "internal",
                "description": "Scheduled jobs: not routed through the API, never called by a "
                "client. Documented for operators (docs/operations.md).",
            },
        ],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "A Supabase access token of a signed-in user (ES256 or RS256 "
                    "from the project's JWKS, or the legacy HS256 secret): audience and role "
                    "`authenticated`, a UUID `sub`, `exp` and `iat` required.",
                }
            },
            "parameters": _parameters(),
            "headers": _headers(),
            "schemas": {**_model_schemas(models), **api_errors.schemas(table)},
        },
    }


def _command(function: registry.Function, contract: Contract, table: ErrorTable) -> dict:
    request = contract.request
    assert request is not None
    return {
        "operationId": function.name,
        "summary": _summary(function),
        "tags": ["commands"],
        "parameters": [
            {"$ref": "#/components/parameters/Idempotency-Key"},
            {"$ref": "#/components/parameters/X-Correlation-ID"},
        ],
        "requestBody": {
            "required": bool(request.model_json_schema().get("required")),
            "description": 'JSON; no body at all means `{}`. Types are strict: `"1"`, `1.5`, '
            "`true` and `null` are not integers; unknown fields are refused.",
            "content": {JSON: {"schema": ref(request.__name__)}},
        },
        "responses": _responses(contract, table, replayable=True),
    }


def _job(function: registry.Function, contract: Contract, table: ErrorTable) -> dict:
    port = DEFAULT_FUNCTIONS_PORT + registry.FUNCTIONS.index(function)
    return {
        "servers": [
            {
                "url": "http://127.0.0.1:{port}",
                "description": "Its own process under make run (DEVSTACK_FUNCTIONS_PORT + its "
                "place in functions/registry.py), which POSTs to it every minute. On AWS it has "
                "no URL: an EventBridge schedule invokes the Lambda.",
                "variables": {"port": {"default": str(port)}},
            }
        ],
        "post": {
            "operationId": function.name,
            "summary": _summary(function),
            "description": f"Scheduled `{function.schedule}`. Takes no body and no token (it is "
            "never exposed); any method runs it.",
            "tags": ["internal"],
            "x-internal": True,
            "security": [],
            "parameters": [{"$ref": "#/components/parameters/X-Correlation-ID"}],
            "responses": _responses(contract, table, replayable=False),
        },
    }


def _responses(contract: Contract, table: ErrorTable, replayable: bool) -> dict:
    ok_headers = {"X-Correlation-ID": ref("X-Correlation-ID", "headers")}
    if replayable:
        ok_headers["Idempotent-Replayed"] = ref("Idempotent-Replayed", "headers")
    return {
        "200": {
            "description": _first_line(contract.answer.__doc__),
            "headers": ok_headers,
            "content": {JSON: {"schema": ref(contract.answer.__name__)}},
        },
        **api_errors.responses(api_errors.failures(contract, table), replayable),
    }


def _parameters() -> dict:
    return {
        "Idempotency-Key": {
            "name": idempotency.HEADER,
            "in": "header",
            "required": False,
            "description": "A fresh key per click, the same one when retrying it; per user. The "
            "same key and body answer the stored first answer again (`Idempotent-Replayed: "
            "true`) and apply nothing twice; another body answers 422 "
            "`idempotency_key_reused`. Kept 24 hours.",
            "schema": {"type": "string", "pattern": _anchored(idempotency.KEY_PATTERN.pattern)},
        },
        "X-Correlation-ID": {
            "name": "X-Correlation-ID",
            "in": "header",
            "required": False,
            "description": "Adopted when it is 1-128 of `[A-Za-z0-9._:=+/-]`, replaced by a fresh "
            "UUID otherwise (never refused); echoed in the answer, its error body and the logs.",
            "schema": {"type": "string"},
        },
    }


def _headers() -> dict:
    return {
        "X-Correlation-ID": {
            "description": "The request's correlation id (its own, or one minted for it).",
            "required": True,
            "schema": {"type": "string", "pattern": _anchored(logs.SAFE_ID.pattern)},
        },
        "Idempotent-Replayed": {
            "description": "Present on the stored answer of an Idempotency-Key, sent again.",
            "schema": {"type": "string", "enum": ["true"]},
        },
        "Retry-After": api_errors.RETRY_AFTER,
    }


def _model_schemas(models: Iterable[type[BaseModel]]) -> dict:
    ordered = sorted(models, key=lambda model: model.__name__)
    _, schema = models_json_schema(
        [(model, "serialization") for model in ordered],
        ref_template="#/components/schemas/{model}",
    )
    return dict(sorted(schema["$defs"].items()))


def _summary(function: registry.Function) -> str:
    """The first line of the function's main.py docstring, after its name."""
    module = importlib.import_module(f"functions.{function.name}.main")
    line = _first_line(module.__doc__)
    summary = line.split(": ", 1)[-1].rstrip(".")
    return summary[:1].upper() + summary[1:]


def _first_line(text: str | None) -> str:
    return (text or "").strip().splitlines()[0]


def _anchored(pattern: str) -> str:
    """A Python `fullmatch` pattern as the ECMA-262 pattern JSON Schema expects."""
    return f"^{pattern}$"


def _version() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def render(doc: dict) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only say whether it is stale")
    args = parser.parse_args()
    text = render(document())
    if args.check:
        if DOCUMENT.read_text() != text:
            sys.exit(f"{DOCUMENT} is stale: run `make openapi`")
        return
    DOCUMENT.write_text(text)
    print(f"wrote {DOCUMENT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
