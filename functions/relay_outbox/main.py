"""relay-outbox: publish the OrderPlaced events still pending in the outbox.

Scheduled on AWS (`handler`); also a functions-framework HTTP target (`relay_outbox`, e.g. for
Cloud Scheduler), and runnable by hand: `python functions/relay_outbox/main.py`.
"""

from shared import logs, order_events
from shared.config import log_level

logs.configure(log_level())


def relay_outbox(request=None) -> dict:
    logs.begin_invocation(
        "relay_outbox", request.headers.get("X-Correlation-ID") if request else None
    )
    return order_events.relay_pending()


def handler(event, context) -> dict:
    logs.begin_invocation("relay_outbox", getattr(context, "aws_request_id", None))
    return order_events.relay_pending()


if __name__ == "__main__":
    print(relay_outbox())
