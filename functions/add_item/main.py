"""add-item: reserve units of a product in the caller's cart."""

from shared import commands
from shared.http import command_endpoint
from shared.lambda_adapter import lambda_handler
from shared.schemas import CartItemRequest


@command_endpoint("add_item", CartItemRequest)
def add_item(user, body: CartItemRequest, key) -> dict:
    return commands.add_item(user.id, body.product_id, body.quantity, key)


# AWS Lambda's entry point; `add_item` above is functions-framework's.
handler = lambda_handler(add_item)
