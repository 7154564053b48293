"""One command, one transaction: commit once, roll back on anything else, retry on deadlock."""

from __future__ import annotations

import logging
import random
import time
from typing import Callable, TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from shared import db
from shared.outbox import OutboxRepository
from shared.repository import CartRepository

T = TypeVar("T")
ATTEMPTS = 3
log = logging.getLogger(__name__)


class UnitOfWork:
    """Rolls back unless `commit()` was called, like cosmicpython's unit of work."""

    carts: CartRepository
    outbox: OutboxRepository

    def __init__(self, engine: Engine | None = None):
        self._engine = engine or db.engine()

    def __enter__(self) -> "UnitOfWork":
        self._connection = self._engine.connect()
        self._transaction = self._connection.begin()
        self.carts = CartRepository(self._connection)
        self.outbox = OutboxRepository(self._connection)
        return self

    def commit(self) -> None:
        self._transaction.commit()

    def __exit__(self, *exc_info) -> None:
        try:
            if self._transaction.is_active:
                self._transaction.rollback()
        finally:
            self._connection.close()


def run_in_transaction(work: Callable[[UnitOfWork], T], engine: Engine | None = None) -> T:
    """Run `work` in a fresh unit of work, again (with jitter) when PostgreSQL asks us to.

    A deadlock or serialization failure rolled the whole transaction back, so running the
    whole command again is safe. Lost connections become DatabaseUnavailable.
    """
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with UnitOfWork(engine) as uow:
                return work(uow)
        except DBAPIError as error:
            code = db.sqlstate(error)
            if code in db.RETRYABLE_SQLSTATES and attempt < ATTEMPTS:
                log.warning("retrying after %s (attempt %d)", code, attempt)
                time.sleep(random.uniform(0, 0.01 * 2**attempt))
                continue
            if db.is_unavailable(error):
                raise db.DatabaseUnavailable(str(error.orig)) from error
            raise
    raise AssertionError("unreachable")
