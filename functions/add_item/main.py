"""add-item: reserve units of a product in the caller's cart."""

from shared.bootstrap import rules, unit_of_work
from shared.entrypoints.http import Call, command_endpoint
from shared.entrypoints.lambda_adapter import lambda_handler
from shared.entrypoints.schemas import CartItemRequest, CartLine
from shared.service import add_item as use_case


@command_endpoint("add_item", CartItemRequest, CartLine, use_case.REFUSALS)
def add_item(call: Call[CartItemRequest]) -> dict:
    body = call.body
    return use_case.add_item(
        unit_of_work(), call.user.id, body.product_id, body.quantity, call.key, rules()
    )


# AWS Lambda's entry point; `add_item` above is functions-framework's.
handler = lambda_handler(add_item)
