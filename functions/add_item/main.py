"""add-item: reserve units of a product in the caller's cart."""

import functions_framework

from shared import commands
from shared.http import command_endpoint
from shared.schemas import CartItemRequest


@functions_framework.http
@command_endpoint("add_item", CartItemRequest)
def add_item(user, body: CartItemRequest, key) -> dict:
    return commands.add_item(user.id, body.product_id, body.quantity, key)
