"""release-expired-carts: give back the stock of carts nobody touched for CART_TTL_MINUTES.

Scheduled every minute; safe to run twice or in parallel.
"""

from shared.bootstrap import unit_of_work
from shared.config import settings
from shared.entrypoints.jobs import job_endpoint, scheduled_handler
from shared.entrypoints.schemas import ReleasedCarts
from shared.service import release_expired_carts as use_case


@job_endpoint("release_expired_carts", ReleasedCarts)
def release_expired_carts() -> dict:
    return use_case.release_expired_carts(unit_of_work(), settings().sweep_budget_seconds)


# AWS Lambda's entry point for the schedule; `release_expired_carts` above is an HTTP target.
handler = scheduled_handler(release_expired_carts)
