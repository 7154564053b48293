"""release-expired-carts: give back the stock of carts nobody touched for CART_TTL_MINUTES.

Scheduled every minute. Locally (or on Cloud Scheduler) it is a functions-framework HTTP target;
on AWS Lambda, `handler` is the schedule's entry point. Safe to run twice or in parallel.
"""

from shared import logs, reservations
from shared.http import job_endpoint


@job_endpoint("release_expired_carts")
def release_expired_carts() -> dict:
    return reservations.release_expired_carts()


def handler(event, context) -> dict:
    """AWS Lambda entry point for `schedule: rate(1 minute)`; a failure raises, so it shows."""
    logs.begin_invocation("release_expired_carts", getattr(context, "aws_request_id", None))
    return reservations.release_expired_carts()
