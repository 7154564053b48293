"""One command, one transaction: commit once, roll back on anything else, retry when safe."""

from __future__ import annotations

import logging
import random
import time
from typing import Callable, TypeVar

from sqlalchemy import Engine

from shared import db
from shared.config import settings
from shared.domain import DomainError
from shared.idempotency import IdempotencyKey, IdempotencyKeyReused, Replayed
from shared.outbox import OutboxRepository
from shared.repository import CartRepository, StaleRead

T = TypeVar("T")
ATTEMPTS = 3
log = logging.getLogger(__name__)


class UnitOfWork:
    """Rolls back unless `commit()` was called, like cosmicpython's unit of work."""

    carts: CartRepository
    outbox: OutboxRepository

    def __init__(self, engine: Engine | None = None, key: IdempotencyKey | None = None):
        self._engine = engine or db.engine()
        self.key = key
        self.connected = False
        self.commit_sent = False

    def __enter__(self) -> "UnitOfWork":
        try:
            self._pooled = self._engine.raw_connection()
        except Exception as error:
            if db.is_connection_error(error) and not db.timed_out(error):
                # A pooled connection died while idle and its pre-ping failed with a bare socket
                # reset, which SQLAlchemy does not take for a disconnect. Its idle siblings are
                # most likely dead too (server restart, terminated backends): start a new pool,
                # as SQLAlchemy does itself for the disconnects it recognizes.
                self._engine.dispose()
            raise
        self.connected = True
        self.session = db.Session(self._pooled, db.use_prepared_statements(self._engine.url))
        try:
            self.session.begin()
        except BaseException as error:
            self._release(broken=db.is_connection_error(error))
            raise
        self.carts = CartRepository(self.session, self.key, settings().cart_ttl_minutes)
        self.outbox = OutboxRepository(self.session)
        return self

    def refuse(self, refusal: DomainError) -> None:
        """A domain refusal is the key's answer too: store it and commit (nothing else changed).

        Without a key, or for a refusal that is not stored, the transaction just rolls back.
        """
        if self.key is None or not self.carts.claimed:
            return
        answer = self.key.render_refusal(refusal)
        if answer is not None:
            self.carts.save_refusal(answer)
            self.commit()

    def commit(self) -> None:
        self.commit_sent = True
        self.session.commit()
        self._committed = True

    def __exit__(self, exc_type, exc, tb) -> None:
        broken = exc is not None and db.is_connection_error(exc)
        if not getattr(self, "_committed", False) and not broken:
            try:
                self.session.rollback()
            except Exception:
                broken = True
        self._release(broken)

    def _release(self, broken: bool) -> None:
        if broken:
            self._pooled.invalidate()  # never hand a dead connection to the next command
        self._pooled.close()


def run_in_transaction(
    work: Callable[[UnitOfWork], T],
    engine: Engine | None = None,
    key: IdempotencyKey | None = None,
) -> T:
    """Run `work` in a fresh unit of work, again (with jitter) when that is safe.

    A deadlock or serialization failure rolled the whole transaction back, and so does a
    connection lost before COMMIT was sent: running the whole command again applies it once.
    A connection lost during COMMIT leaves the outcome unknown, so that one is retried only with
    an idempotency key: if the first COMMIT landed, the retry finds the stored answer. A failed
    checkout is retried unless it timed out (see below).
    A lock or statement timeout is not retried here (the wait already took its budget):
    `db.Busy` tells the caller to come back shortly.
    """
    for attempt in range(1, ATTEMPTS + 1):
        uow = UnitOfWork(engine, key)
        try:
            with uow:
                try:
                    return work(uow)
                except DomainError as refusal:
                    uow.refuse(refusal)
                    raise
        except (DomainError, Replayed, IdempotencyKeyReused):
            raise
        except StaleRead as error:
            if attempt < ATTEMPTS:
                log.info("retrying after a stale read: %s", error)
                continue
            raise db.Busy("the cart kept changing; try again") from error
        except Exception as error:
            code = db.sqlstate(error)
            if code in db.RETRYABLE_SQLSTATES and attempt < ATTEMPTS:
                log.warning("retrying after %s (attempt %d)", code, attempt)
                time.sleep(random.uniform(0, 0.01 * 2**attempt))
                continue
            if code in db.BUSY_SQLSTATES:
                raise db.Busy("the database is busy; try again shortly") from error
            if not db.is_connection_error(error):
                raise
            # Nothing of this command was applied when the connection failed before COMMIT, or
            # when checking one out failed: an idle pooled connection that died (server restart,
            # pg_terminate_backend) can fail its pre-ping with a bare socket reset. A checkout
            # that timed out is not retried: the server is not answering, and the caller should
            # hear so within the connect timeout.
            may_retry = not uow.commit_sent or key is not None
            reached = uow.connected or not db.timed_out(error)
            if reached and may_retry and attempt < ATTEMPTS:
                log.warning("retrying on a fresh connection after: %s", error)
                continue
            raise db.DatabaseUnavailable("the database is unavailable") from error
    raise AssertionError("unreachable")
