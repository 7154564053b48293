"""The unit of work on PostgreSQL: one pooled connection, one transaction, its repositories.

It also says which failures are safe to run again (`classify`): every case below is retried
because nothing of the command can have been applied twice, and the reason is given beside it.
"""

from __future__ import annotations

from sqlalchemy import Engine

from shared.adapters.postgres import connection as db
from shared.adapters.postgres.carts import CartRepository, StaleRead
from shared.adapters.postgres.expired_carts import ExpiredCartsRepository
from shared.adapters.postgres.idempotency import IdempotencyRecords
from shared.adapters.postgres.orders import OrderRepository
from shared.adapters.postgres.outbox import OutboxRepository
from shared.adapters.postgres.stock import BucketsNotLocked
from shared.config import settings
from shared.domain import StockNotAllHeld
from shared.errors import Busy, DatabaseUnavailable
from shared.service.unit_of_work import TryAgain, UnitOfWork


class PostgresUnitOfWork(UnitOfWork):
    def __init__(self, engine: Engine | None = None):
        self._engine = engine
        self._lock_all_stock = False  # set for the one run after a short, partial hold

    def __enter__(self) -> PostgresUnitOfWork:
        self.connected = self.commit_sent = self._committed = False
        engine = self._engine or db.engine()
        try:
            self._pooled = engine.raw_connection()
            self.connected = True
            self.session = db.Session(self._pooled, db.use_prepared_statements(engine.url))
            self.session.begin()
        except BaseException as error:
            broken = db.is_connection_error(error)
            if self.connected:
                self._release(broken)
            if broken and not db.timed_out(error):
                # Before the transaction began, a connection error means the server is down or
                # restarting, or (BEGIN being the pool's only ping) that this connection died
                # while idle: its idle siblings most likely died with it. The retry starts on a
                # new pool, as SQLAlchemy does itself for the disconnects it recognizes.
                engine.dispose()
            raise
        ttl = settings().cart_ttl_minutes
        self.idempotency = IdempotencyRecords(self.session, self.key)
        self.carts = CartRepository(self.session, self.idempotency, ttl, self._lock_all_stock)
        self.orders = OrderRepository(self.session, self.idempotency, ttl)
        self.outbox = OutboxRepository(self.session)
        self.expired_carts = ExpiredCartsRepository(self.session)
        return self

    def commit(self) -> None:
        self.commit_sent = True
        self.session.commit()
        self._committed = True

    def __exit__(self, exc_type, exc, tb) -> None:
        broken = exc is not None and db.is_connection_error(exc)
        if not self._committed and not broken:
            try:
                self.session.rollback()
            except Exception:
                broken = True
        self._release(broken)

    def _release(self, broken: bool) -> None:
        if broken:
            self._pooled.invalidate()  # never hand a dead connection to the next command
        self._pooled.close()

    def classify(self, error: Exception) -> Exception:
        """A deadlock or serialization failure rolled the whole transaction back, and so does a
        connection lost before COMMIT was sent: running the whole command again applies it once.
        A connection lost during COMMIT leaves the outcome unknown, so that one is retried only
        with an idempotency key: if the first COMMIT landed, the retry finds the stored answer.
        A lock or statement timeout is not retried (the wait already took its budget): `Busy`
        tells the caller to come back shortly.
        """
        if isinstance(error, StaleRead):
            return TryAgain(str(error), Busy("the cart kept changing; try again"))
        if isinstance(error, BucketsNotLocked):
            return TryAgain(str(error), Busy("the product's stock kept moving; try again"))
        if isinstance(error, StockNotAllHeld):
            self._lock_all_stock = True
            # Out of attempts only if N kept changing under every run (set_product_stock): busy,
            # never a 500.
            return TryAgain(
                "the bucket held fell short: again, holding them all",
                Busy("the product's stock kept changing; try again"),
            )
        code = db.sqlstate(error)
        if code in db.RETRYABLE_SQLSTATES:
            return TryAgain(f"SQLSTATE {code}", error, backoff=True)
        if code in db.BUSY_SQLSTATES:
            return Busy("the database is busy; try again shortly")
        if not db.is_connection_error(error):
            return error
        unavailable = DatabaseUnavailable("the database is unavailable")
        # Nothing of this command was applied when the connection failed before COMMIT (an idle
        # pooled connection that died, by a server restart or pg_terminate_backend, fails at
        # BEGIN), or when checking one out failed. A checkout that
        # timed out is not retried: the server is not answering, and the caller should hear so
        # within the connect timeout.
        may_retry = not self.commit_sent or self.key is not None
        reached = self.connected or not db.timed_out(error)
        if reached and may_retry:
            return TryAgain(f"connection failed: {error}", unavailable)
        return unavailable
