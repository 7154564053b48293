"""docs/openapi.json: generated from the code, checked in, valid OpenAPI 3.1, complete."""

from __future__ import annotations

import dataclasses
import json

import pytest
from openapi_spec_validator import validate

from functions import api_errors, openapi, registry
from shared import errors
from shared.domain import DomainError, ProductNotFound
from shared.entrypoints.contract import Contract
from shared.entrypoints.schemas import CartItemRequest, CartLine
from shared.errors import Failure, RequestRefused
from shared.service import add_item, checkout, remove_item


@pytest.fixture(scope="module")
def generated() -> dict:
    return openapi.document()


def test_the_checked_in_document_is_the_one_the_code_generates(generated):
    checked_in = openapi.DOCUMENT.read_text()
    assert json.loads(checked_in) == generated, "docs/openapi.json is stale: run `make openapi`"
    assert checked_in == openapi.render(generated), "docs/openapi.json: run `make openapi`"


def test_it_is_a_valid_openapi_3_1_document(generated):
    assert generated["openapi"].startswith("3.1.")
    validate(generated)  # openapi-spec-validator: raises on anything the 3.1 schema refuses


def test_a_broken_document_is_refused_by_the_validator(generated):
    broken = json.loads(json.dumps(generated))
    broken["paths"]["/add-item"]["post"]["responses"]["200"].pop("description")
    with pytest.raises(Exception, match="description"):
        validate(broken)


def test_every_function_of_the_registry_is_documented_jobs_as_internal(generated):
    operations = {
        operation["operationId"]: operation
        for item in generated["paths"].values()
        for operation in [item["post"]]
    }
    assert set(operations) == set(registry.NAMES)
    for function in registry.COMMANDS:
        assert f"/{function.route}" in generated["paths"]
        assert operations[function.name]["tags"] == ["commands"]
        assert "security" not in operations[function.name]  # the document's bearer applies
    for function in registry.JOBS:
        assert operations[function.name]["tags"] == ["internal"]
        assert operations[function.name]["x-internal"] is True
        assert operations[function.name]["security"] == []
    assert generated["security"] == [{"bearer": []}]
    scheme = generated["components"]["securitySchemes"]["bearer"]
    assert (scheme["type"], scheme["scheme"], scheme["bearerFormat"]) == ("http", "bearer", "JWT")


def test_bodies_are_the_models_the_endpoints_validate_with(generated):
    schemas = generated["components"]["schemas"]
    for function, contract in openapi.contracts().items():
        operation = generated["paths"][f"/{function.route or function.deployed_name}"]["post"]
        ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert ok == {"$ref": f"#/components/schemas/{contract.answer.__name__}"}
        if contract.request is None:
            assert "requestBody" not in operation
            continue
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        assert body == {"$ref": f"#/components/schemas/{contract.request.__name__}"}
    quantity = schemas["CartItemRequest"]["properties"]["quantity"]
    assert (quantity["minimum"], quantity["maximum"], quantity["default"]) == (1, 1000, 1)
    assert schemas["CartItemRequest"]["additionalProperties"] is False
    assert schemas["CartItemRequest"]["required"] == ["product_id"]
    assert set(schemas["PlacedOrder"]["required"]) == {
        "order_id",
        "status",
        "total_cents",
        "created_at",
        "lines",
    }


def _codes(generated: dict, path: str) -> dict[str, set[str]]:
    """status -> the error codes the operation documents for it."""
    found = {}
    for status, response in generated["paths"][path]["post"]["responses"].items():
        schema = response["content"]["application/json"]["schema"]
        refs = [r["$ref"] for r in schema.get("oneOf", [schema])]
        if status != "200":
            found[status] = {ref.rsplit("/error.", 1)[1] for ref in refs}
    return found


def test_each_command_answers_the_generic_failures_and_its_own_refusals(generated):
    generic = {
        "400": {"invalid_json", "invalid_idempotency_key"},
        "401": {"unauthorized"},
        "413": {"payload_too_large"},
        "422": {"validation_error", "idempotency_key_reused"},
        "500": {"internal"},
        "503": {"database_unavailable", "busy_try_again", "configuration_error"},
    }
    limited = {"429": {"rate_limited"}}  # every command spends the customer's tokens
    assert _codes(generated, "/add-item") == {
        **generic,
        **limited,
        "404": {"product_not_found"},
        "409": {"insufficient_stock", "purchase_limit_reached", "cart_limit_reached"},
    }
    assert _codes(generated, "/remove-item") == {
        **generic,
        **limited,
        "404": {"product_not_found", "item_not_in_cart"},
    }
    assert _codes(generated, "/checkout") == {**generic, **limited, "409": {"cart_empty"}}
    assert _codes(generated, "/relay-outbox") == {
        "500": {"internal"},
        "503": {"database_unavailable", "busy_try_again", "configuration_error"},
    }
    # The refusals come from the use cases, not from a list kept here.
    assert {c.__name__ for c in add_item.REFUSALS} == {
        "RateLimited",
        "ProductNotFound",
        "PurchaseLimitReached",
        "CartLimitReached",
        "InsufficientStock",
    }
    assert {c.__name__ for c in remove_item.REFUSALS + checkout.REFUSALS} == {
        "RateLimited",
        "ProductNotFound",
        "ItemNotInCart",
        "CartEmpty",
    }


def test_every_code_of_the_error_table_has_its_body_shape(generated):
    schemas = generated["components"]["schemas"]
    codes = {f.code for f in errors.ERROR_TABLE.values()} | {errors.INTERNAL.code}
    assert {name.removeprefix("error.") for name in schemas if name.startswith("error.")} == codes
    assert set(schemas["ErrorDetail"]["properties"]["code"]["enum"]) == codes
    for code in codes:
        error = schemas[f"error.{code}"]["properties"]["error"]
        assert error == {"$ref": "#/components/schemas/ErrorDetail", **error} and error[
            "properties"
        ] == {"code": {"const": code}}
    assert "Allow: POST, OPTIONS" in schemas["error.method_not_allowed"]["description"]
    for code in codes:
        assert f"`{code}`" in generated["info"]["description"]  # the table, for readers


def test_headers_replays_retry_after_and_correlation_ids(generated):
    responses = generated["paths"]["/add-item"]["post"]["responses"]
    for status, response in responses.items():
        assert response["headers"]["X-Correlation-ID"] == {
            "$ref": "#/components/headers/X-Correlation-ID"
        }, status
    replayable = {s for s, r in responses.items() if "Idempotent-Replayed" in r["headers"]}
    assert replayable == {"200", "404", "409"}  # successes and the stored refusals
    assert responses["503"]["headers"]["Retry-After"]["required"] is False  # busy only
    assert responses["429"]["headers"]["Retry-After"]["required"] is True
    assert set(responses) == {
        "200",
        "400",
        "401",
        "404",
        "409",
        "413",
        "422",
        "429",
        "500",
        "503",
    }
    key = generated["components"]["parameters"]["Idempotency-Key"]
    assert (key["in"], key["required"]) == ("header", False)
    assert key["schema"]["pattern"] == "^[A-Za-z0-9._:-]{1,255}$"


class Maintenance(RequestRefused):
    pass


class SaleNotStarted(DomainError):
    pass


def test_a_new_row_named_by_a_use_case_is_all_the_document_needs():
    """Tomorrow's codes: a row in the table (and, for a rule, a name in REFUSALS), nothing else.
    Issue 10's three new refusals came in exactly this way."""
    table = {
        **errors.ERROR_TABLE,
        Maintenance: Failure(418, "maintenance", "closed for a moment", retry_after_seconds=60),
        SaleNotStarted: Failure(409, "sale_not_started", "before the drop", stored=True),
    }
    found = openapi.contracts()
    add = registry.named("add_item")
    found[add] = dataclasses.replace(found[add], refusals=(*found[add].refusals, SaleNotStarted))
    doc = openapi.document(found, table)
    validate(doc)
    assert "sale_not_started" in _codes(doc, "/add-item")["409"]
    assert "sale_not_started" not in _codes(doc, "/checkout")["409"]
    for path in ("/add-item", "/remove-item", "/checkout"):
        assert _codes(doc, path)["418"] == {"maintenance"}
        answer = doc["paths"][path]["post"]["responses"]["418"]
        assert answer["headers"]["Retry-After"]["required"] is True
    assert "error.sale_not_started" in doc["components"]["schemas"]


def test_failures_of_a_job_are_only_the_machinery_s():
    job = Contract("a_job", CartLine)
    command = Contract("a_command", CartLine, CartItemRequest, (ProductNotFound,))
    assert {f.code for _, f in api_errors.failures(job)} == {
        "database_unavailable",
        "busy_try_again",
        "configuration_error",
        "internal",
    }
    codes = {f.code for _, f in api_errors.failures(command)}
    assert "product_not_found" in codes and "insufficient_stock" not in codes
    assert "method_not_allowed" not in codes  # answered to other methods, not to POST
