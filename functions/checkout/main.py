"""checkout: turn the caller's cart into a placed order."""

import functions_framework

from shared import commands
from shared.http import command_endpoint
from shared.schemas import CheckoutRequest


@functions_framework.http
@command_endpoint("checkout", CheckoutRequest)
def checkout(user, body: CheckoutRequest, key) -> dict:
    return commands.checkout(user.id, key)
