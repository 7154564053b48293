"""One command, one transaction: commit once, roll back on anything else, retry when safe.

The use cases are given a unit of work and call `uow.run(work, key)`. This module holds what is
true of every unit of work: the retry loop and the rule for refusals under an Idempotency-Key.
An adapter (shared/adapters/postgres/unit_of_work.py, or the in-memory fake of the unit tests)
provides the transaction and says which of its failures are safe to run again (`TryAgain`).
"""

from __future__ import annotations

import abc
import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from shared import errors, metrics
from shared.domain import DomainError
from shared.errors import IdempotencyKeyReused
from shared.service import ports
from shared.service.idempotency import IdempotencyKey, Replayed

T = TypeVar("T")
ATTEMPTS = 3
log = logging.getLogger(__name__)


class TryAgain(Exception):
    """This attempt applied nothing (or its key makes a rerun safe): run the whole work again.

    `out_of_attempts` is raised when no attempt is left; `backoff` asks for a short random
    pause first (two transactions that collided should not collide again in step).
    """

    def __init__(self, reason: str, out_of_attempts: Exception, backoff: bool = False):
        super().__init__(reason)
        self.out_of_attempts = out_of_attempts
        self.backoff = backoff


class UnitOfWork(abc.ABC):
    """Rolls back unless `commit()` was called, like cosmicpython's unit of work.

    The repositories exist while a transaction is open (`with uow:`), each bound to it.
    """

    carts: ports.Carts
    orders: ports.Orders
    idempotency: ports.IdempotencyRecords
    outbox: ports.Outbox
    expired_carts: ports.ExpiredCarts
    key: IdempotencyKey | None = None

    @abc.abstractmethod
    def __enter__(self) -> UnitOfWork: ...

    @abc.abstractmethod
    def __exit__(self, exc_type, exc, tb) -> None: ...

    @abc.abstractmethod
    def commit(self) -> None: ...

    def classify(self, error: Exception) -> Exception:
        """What a failure of this attempt means: `TryAgain`, another error to raise, or itself."""
        return error

    def run(self, work: Callable[[UnitOfWork], T], key: IdempotencyKey | None = None) -> T:
        """`work(uow)` in a fresh transaction, again (up to ATTEMPTS) when the adapter says so.

        A domain refusal rolls back, except that its answer is stored under the request's key
        when the error table says so (shared/errors.py), and committed on its own: the store
        statement takes back anything else the lock statement wrote (a cart it made), so a
        refused command writes nothing but its key's answer.
        """
        try:
            return self._attempts(work, key)
        finally:
            self.key = None

    def _attempts(self, work: Callable[[UnitOfWork], T], key: IdempotencyKey | None) -> T:
        for attempt in range(1, ATTEMPTS + 1):
            self.key = key
            try:
                with self:
                    try:
                        return work(self)
                    except DomainError as refusal:
                        self._store_refusal(refusal)
                        raise
            except (DomainError, Replayed, IdempotencyKeyReused):
                raise
            except Exception as error:
                failure = self.classify(error)
                if isinstance(failure, TryAgain):
                    if attempt < ATTEMPTS:
                        log.warning("retrying (attempt %d): %s", attempt, failure)
                        metrics.add("retries", 1)
                        if failure.backoff:
                            time.sleep(random.uniform(0, 0.01 * 2**attempt))
                        continue
                    failure = failure.out_of_attempts
                if failure is error:
                    raise
                raise failure from error
        raise AssertionError("unreachable")

    def _store_refusal(self, refusal: DomainError) -> None:
        answer = errors.stored_answer(refusal)
        if answer is not None and self.key is not None and self.idempotency.claimed:
            self.idempotency.store(*answer)
            self.commit()
