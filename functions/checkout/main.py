"""checkout: turn the caller's cart into a placed order."""

from shared import commands
from shared.http import command_endpoint
from shared.lambda_adapter import lambda_handler
from shared.schemas import CheckoutRequest


@command_endpoint("checkout", CheckoutRequest)
def checkout(user, body: CheckoutRequest, key) -> dict:
    return commands.checkout(user.id, key)


# AWS Lambda's entry point; `checkout` above is functions-framework's.
handler = lambda_handler(checkout)
