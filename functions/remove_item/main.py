"""remove-item: give units back from the caller's cart to stock."""

import functions_framework

from shared import commands
from shared.http import command_endpoint
from shared.schemas import CartItemRequest


@functions_framework.http
@command_endpoint("remove_item", CartItemRequest)
def remove_item(user, body: CartItemRequest, key) -> dict:
    return commands.remove_item(user.id, body.product_id, body.quantity, key)
