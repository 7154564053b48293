"""relay-outbox: publish the OrderPlaced events still pending in the outbox.

Scheduled every minute; `make relay` runs it once by hand.
"""

from shared.bootstrap import order_events, unit_of_work
from shared.config import settings
from shared.entrypoints.jobs import job_endpoint, scheduled_handler
from shared.entrypoints.schemas import RelayedEvents
from shared.service import relay_outbox as use_case


@job_endpoint("relay_outbox", RelayedEvents)
def relay_outbox() -> dict:
    return use_case.relay_pending(unit_of_work(), order_events(), settings().outbox_batch_size)


# AWS Lambda's entry point for the schedule; `relay_outbox` above is an HTTP target.
handler = scheduled_handler(relay_outbox)
