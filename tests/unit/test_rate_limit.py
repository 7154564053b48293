"""The per-customer rate limit, a token bucket in plain Python (shared/domain/rate_limit.py)."""

from datetime import UTC, datetime, timedelta

import pytest

from shared.domain import Cart, RateLimit, RateLimited, admit
from tests.support import random_id

T0 = datetime(2026, 1, 1, 12, tzinfo=UTC)


def seconds(s: float) -> datetime:
    return T0 + timedelta(seconds=s)


def test_a_first_command_starts_from_a_full_burst():
    assert RateLimit(per_minute=60, burst=10).spend(None, None, T0) == (9.0, T0)


def test_the_burst_goes_at_once_then_the_next_is_refused():
    limit, state = RateLimit(per_minute=60, burst=3), (None, None)
    for _ in range(3):
        state = limit.spend(*state, T0)
    with pytest.raises(RateLimited) as refused:
        limit.spend(*state, T0)
    assert refused.value.retry_after_seconds == 1  # a token a second
    assert refused.value.details == {"retry_after_seconds": 1}


def test_tokens_come_back_at_the_rate_and_never_past_the_burst():
    limit = RateLimit(per_minute=6, burst=2)  # a token every 10 s
    assert limit.spend(0.0, T0, seconds(10)) == (0.0, seconds(10))
    tokens, counted_at = limit.spend(0.0, T0, seconds(15))
    assert (tokens, counted_at) == (pytest.approx(0.5), seconds(15))
    assert limit.spend(0.0, T0, seconds(3600)) == (1.0, seconds(3600))  # the burst, less one


@pytest.mark.parametrize(
    "tokens, waited, retry_after",
    [(0.0, 0, 10), (0.0, 1, 9), (0.5, 0, 5), (0.95, 0, 1), (0.0, 9.5, 1)],
)
def test_retry_after_is_when_the_next_token_is_there(tokens, waited, retry_after):
    limit = RateLimit(per_minute=6, burst=2)
    with pytest.raises(RateLimited) as refused:
        limit.spend(tokens, T0, seconds(waited))
    assert refused.value.retry_after_seconds == retry_after


def test_a_clock_that_went_back_gives_no_tokens():
    """Two transactions' now() need not be in commit order: never negative elapsed time."""
    limit = RateLimit(per_minute=60, burst=5)
    assert limit.spend(2.0, seconds(10), seconds(9)) == (1.0, seconds(9))


def test_zero_per_minute_turns_it_off():
    limit = RateLimit(per_minute=0, burst=1)
    state = (0.0, T0)
    for _ in range(100):
        state = limit.spend(*state, T0)
    assert state == (1.0, T0)


def test_admit_spends_the_customers_token_on_their_cart():
    cart = Cart(random_id(), rate_tokens=1.0, rate_counted_at=T0, locked_at=seconds(0.5))
    admit(cart, RateLimit(per_minute=60, burst=10))
    assert (cart.rate_tokens, cart.rate_counted_at) == (0.5, seconds(0.5))
    with pytest.raises(RateLimited):
        admit(cart, RateLimit(per_minute=60, burst=10))
    assert (cart.rate_tokens, cart.rate_counted_at) == (0.5, seconds(0.5))  # refused: unchanged
