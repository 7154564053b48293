"""checkout: turn the caller's cart into a placed order."""

from shared.bootstrap import order_events, rules, unit_of_work
from shared.entrypoints.http import Call, command_endpoint
from shared.entrypoints.lambda_adapter import lambda_handler
from shared.entrypoints.schemas import CheckoutRequest, PlacedOrder
from shared.service import checkout as use_case


@command_endpoint("checkout", CheckoutRequest, PlacedOrder, use_case.REFUSALS)
def checkout(call: Call[CheckoutRequest]) -> dict:
    return use_case.checkout(
        unit_of_work(), call.user.id, call.correlation_id, call.key, order_events(), rules()
    )


# AWS Lambda's entry point; `checkout` above is functions-framework's.
handler = lambda_handler(checkout)
