"""What every unit of work inherits (shared/service/unit_of_work.py): the retry loop and the
rule for refusals under an Idempotency-Key, run on the fake."""

import pytest

from shared import errors
from shared.adapters.postgres.unit_of_work import PostgresUnitOfWork
from shared.domain import DomainError, StockNotAllHeld
from shared.errors import Busy, IdempotencyKeyReused
from shared.service.idempotency import Replayed, StoredResponse
from shared.service.unit_of_work import ATTEMPTS, TryAgain
from tests.support import random_id
from tests.unit.fakes import FakeUnitOfWork, new_key
from tests.unit.test_errors import REFUSALS


def failing(times: int, error, answer="done"):
    """Work that raises `error()` on its first `times` attempts, then answers; it counts them."""

    def work(uow):
        work.attempts += 1
        if work.attempts <= times:
            raise error()
        return answer

    work.attempts = 0
    return work


@pytest.fixture
def uow():
    return FakeUnitOfWork()


def try_again(backoff=False):
    return TryAgain("deadlock", Busy("out of attempts"), backoff=backoff)


@pytest.mark.parametrize("backoff", [False, True])
def test_try_again_runs_the_whole_work_in_a_fresh_transaction(uow, backoff):
    work = failing(ATTEMPTS - 1, lambda: try_again(backoff))
    assert uow.run(work) == "done"
    assert work.attempts == uow.transactions == ATTEMPTS


def test_out_of_attempts_raises_what_the_adapter_chose(uow):
    work = failing(ATTEMPTS, try_again)
    with pytest.raises(Busy, match="out of attempts") as raised:
        uow.run(work)
    assert work.attempts == ATTEMPTS
    assert isinstance(raised.value.__cause__, TryAgain)


@pytest.mark.parametrize(
    "error",
    [
        lambda: ValueError("a bug"),
        lambda: DomainError("a rule"),
        lambda: Replayed(StoredResponse(200, {})),
        IdempotencyKeyReused,
    ],
    ids=["bug", "refusal", "replay", "key_reused"],
)
def test_anything_else_is_raised_at_once(uow, error):
    work = failing(1, error)
    with pytest.raises(type(error())):
        uow.run(work)
    assert work.attempts == 1 and uow.commits == 0


def test_the_adapter_may_turn_a_failure_into_another(uow):
    class Classifying(FakeUnitOfWork):
        def classify(self, error):
            return Busy("lock timeout") if isinstance(error, TimeoutError) else error

    uow, work = Classifying(), failing(1, TimeoutError)
    with pytest.raises(Busy) as raised:
        uow.run(work)
    assert work.attempts == 1 and isinstance(raised.value.__cause__, TimeoutError)


def test_the_key_is_the_works_while_it_runs_and_then_forgotten(uow):
    key = new_key(random_id(), "add_item")
    seen = []
    uow.run(lambda uow: seen.append(uow.key))
    uow.run(lambda uow: seen.append(uow.key), key)
    with pytest.raises(ValueError):
        uow.run(failing(1, ValueError), key)
    assert seen == [None, key] and uow.key is None


def refused_after_claiming(refusal, claim=True):
    def work(uow):
        if claim:
            uow.idempotency.claim()  # what every lock statement does first
        raise refusal

    return work


@pytest.mark.parametrize("refusal", REFUSALS, ids=lambda r: type(r).__name__)
def test_a_keyed_refusal_is_stored_exactly_when_the_table_says_so(uow, refusal):
    user = random_id()
    key = new_key(user, "add_item")
    with pytest.raises(type(refusal)):
        uow.run(refused_after_claiming(refusal), key)
    failure = errors.failure_of(refusal)
    if failure.stored:
        stored = uow.tables.keys[(user, key.value)]
        assert (stored.status, stored.response) == errors.stored_answer(refusal)
        assert stored.response["error"]["code"] == failure.code
        assert uow.commits == 1
    else:
        assert (uow.tables.keys, uow.commits) == ({}, 0)


@pytest.mark.parametrize("refusal", [r for r in REFUSALS if errors.failure_of(r).stored])
def test_a_refusal_is_not_stored_without_a_key_or_a_claim(uow, refusal):
    with pytest.raises(type(refusal)):
        uow.run(refused_after_claiming(refusal))
    with pytest.raises(type(refusal)):
        uow.run(refused_after_claiming(refusal, claim=False), new_key(random_id(), "add_item"))
    assert (uow.tables.keys, uow.commits) == ({}, 0)


def test_a_short_partial_hold_is_retried_holding_every_bucket_and_never_a_500():
    """PostgresUnitOfWork's own classification (no connection is made): run again with every
    bucket locked; should N keep changing under every run, the caller hears busy_try_again."""
    uow = PostgresUnitOfWork(engine=None)
    failure = uow.classify(StockNotAllHeld())
    assert isinstance(failure, TryAgain) and not failure.backoff
    assert errors.failure_of(failure.out_of_attempts).code == "busy_try_again"
    assert uow._lock_all_stock  # the next run locks them all


def test_a_hold_that_stays_short_ends_busy_after_every_attempt():
    uow = FakeUnitOfWork(partial_holds=True)
    work = failing(ATTEMPTS, StockNotAllHeld)
    with pytest.raises(Busy):
        uow.run(work)
    assert work.attempts == ATTEMPTS and uow.commits == 0
