"""remove-item: give units back from the caller's cart to stock."""

from shared.bootstrap import rules, unit_of_work
from shared.entrypoints.http import Call, command_endpoint
from shared.entrypoints.lambda_adapter import lambda_handler
from shared.entrypoints.schemas import CartItemRequest, CartLine
from shared.service import remove_item as use_case


@command_endpoint("remove_item", CartItemRequest, CartLine, use_case.REFUSALS)
def remove_item(call: Call[CartItemRequest]) -> dict:
    body = call.body
    return use_case.remove_item(
        unit_of_work(), call.user.id, body.product_id, body.quantity, call.key, rules()
    )


# AWS Lambda's entry point; `remove_item` above is functions-framework's.
handler = lambda_handler(remove_item)
