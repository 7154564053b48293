"""remove-item: give units back from the caller's cart to stock."""

from shared import commands
from shared.http import command_endpoint
from shared.lambda_adapter import lambda_handler
from shared.schemas import CartItemRequest


@command_endpoint("remove_item", CartItemRequest)
def remove_item(user, body: CartItemRequest, key) -> dict:
    return commands.remove_item(user.id, body.product_id, body.quantity, key)


# AWS Lambda's entry point; `remove_item` above is functions-framework's.
handler = lambda_handler(remove_item)
