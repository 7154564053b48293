"""A PostgreSQL wire proxy that counts network exchanges, and can make each one slower.

An *exchange* is one client write burst sent after the server has answered: the client sends,
then waits. Statements are what the server runs; exchanges are what a network hop costs, so a
database 1 ms away adds about 1 ms per exchange, and the exchanges made while a row lock is held
stretch the lock for every other transaction queued on that row.

The proxy reads the protocol only as far as it needs to: Query/Parse/Bind/Execute to know which
SQL each exchange runs, ReadyForQuery to know when a transaction ends. It listens on a unix
socket dir of its own (`.s.PGSQL.<port>`, the layout libpq and `shared.db.pg8000_url` expect) and
forwards to the real server's socket, so a client only needs `?host=<proxy dir>`. Pure asyncio,
in a background thread; `delay_seconds` is added before each exchange is forwarded, like a
round trip to a database that is a network hop away.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import struct
import tempfile
import threading
import time
from dataclasses import dataclass, fields
from pathlib import Path

from sqlalchemy.engine import make_url

_LOCKING = re.compile(rb"\bfor\s+(no\s+key\s+)?update\b", re.IGNORECASE)
_SPECIAL_REQUESTS = {80877103, 80877104}  # SSLRequest, GSSENCRequest: answered with one byte
_IDLE = ord("I")


@dataclass
class Counts:
    """Totals since the proxy started; subtract two snapshots to get what a command cost."""

    exchanges: int = 0
    statements: int = 0  # Execute and Query messages, BEGIN/COMMIT included
    transactions: int = 0  # ReadyForQuery going back to idle after a transaction block
    lock_holds: int = 0  # answers to a statement with FOR UPDATE
    exchanges_while_locked: int = 0  # exchanges started after a lock was answered, up to idle
    connections: int = 0

    def __sub__(self, other: Counts) -> Counts:
        return Counts(*(getattr(self, f.name) - getattr(other, f.name) for f in fields(self)))


class _Connection:
    """Protocol state of one client connection (both directions run on the proxy's loop)."""

    def __init__(self, counts: Counts):
        self.counts = counts
        self.client_buffer = b""
        self.server_buffer = b""
        self.started = False  # the startup message has been seen
        self.pending_single_bytes = 0  # answers to SSL/GSS requests, which have no header
        self.opaque = False  # TLS was accepted: bytes can be counted, not read
        self.server_spoke_last = True
        self.statement_sql: dict[bytes, bytes] = {}
        self.portal_sql: dict[bytes, bytes] = {}
        self.awaiting_lock_answer = False
        self.lock_held = False
        self.in_transaction = False

    def from_client(self, data: bytes) -> bool:
        """Account for client bytes; True when they start a new exchange."""
        new_exchange = self.server_spoke_last
        self.server_spoke_last = False
        if new_exchange:
            self.counts.exchanges += 1
            if self.lock_held:
                self.counts.exchanges_while_locked += 1
        if not self.opaque:
            self.client_buffer += data
            self._read_client_messages()
        return new_exchange

    def from_server(self, data: bytes) -> None:
        self.server_spoke_last = True
        if self.opaque:
            return
        while self.pending_single_bytes and data:
            self.pending_single_bytes -= 1
            if data[:1] == b"S":
                self.opaque = True
                return
            data = data[1:]
        self.server_buffer += data
        buffer, offset = self.server_buffer, 0
        while len(buffer) - offset >= 5:
            kind = buffer[offset]
            (length,) = struct.unpack_from("!I", buffer, offset + 1)
            if len(buffer) - offset < 1 + length:
                break
            if kind == ord("Z"):
                self._ready_for_query(buffer[offset + 5])
            offset += 1 + length
        self.server_buffer = buffer[offset:]

    def _ready_for_query(self, status: int) -> None:
        if self.awaiting_lock_answer:
            self.awaiting_lock_answer = False
            self.lock_held = status != _IDLE
            self.counts.lock_holds += 1
        if status == _IDLE:
            if self.in_transaction:
                self.counts.transactions += 1
            self.in_transaction = False
            self.lock_held = False
        else:
            self.in_transaction = True

    def _read_client_messages(self) -> None:
        buffer, offset = self.client_buffer, 0
        while True:
            if not self.started:
                if len(buffer) - offset < 8:
                    break
                length, code = struct.unpack_from("!II", buffer, offset)
                if len(buffer) - offset < length:
                    break
                offset += length
                if code in _SPECIAL_REQUESTS:
                    self.pending_single_bytes += 1
                else:
                    self.started = True
                continue
            if len(buffer) - offset < 5:
                break
            kind = buffer[offset]
            (length,) = struct.unpack_from("!I", buffer, offset + 1)
            if len(buffer) - offset < 1 + length:
                break
            self._client_message(kind, buffer[offset + 5 : offset + 1 + length])
            offset += 1 + length
        self.client_buffer = buffer[offset:]

    def _client_message(self, kind: int, body: bytes) -> None:
        if kind == ord("Q"):
            self._runs(body.split(b"\0", 1)[0])
        elif kind == ord("P"):
            name, rest = body.split(b"\0", 1)
            self.statement_sql[name] = rest.split(b"\0", 1)[0]
        elif kind == ord("B"):
            portal, statement, _ = body.split(b"\0", 2)
            self.portal_sql[portal] = self.statement_sql.get(statement, b"")
        elif kind == ord("E"):
            self._runs(self.portal_sql.get(body.split(b"\0", 1)[0], b""))

    def _runs(self, sql: bytes) -> None:
        self.counts.statements += 1
        if _LOCKING.search(sql):
            self.awaiting_lock_answer = True


def unix_socket_of(database_url: str) -> Path:
    """The server socket a libpq-style URL with `?host=/dir` points at."""
    url = make_url(database_url)
    host = url.query.get("host")
    if not (isinstance(host, str) and host.startswith("/")):
        raise ValueError("the wire proxy needs a unix-socket URL (?host=/dir)")
    return Path(host) / f".s.PGSQL.{url.port or 5432}"


class WireProxy:
    """`with WireProxy.for_url(url) as proxy:` then connect to `proxy.url(url)`."""

    @classmethod
    def for_url(cls, database_url: str, delay_seconds: float = 0.0) -> WireProxy:
        return cls(unix_socket_of(database_url), delay_seconds)

    def url(self, database_url: str) -> str:
        """`database_url` pointed at the proxy instead of the server."""
        url = make_url(database_url)
        url = url.set(query={**url.query, "host": self.socket_dir})
        return url.render_as_string(hide_password=False)

    def __init__(self, upstream_socket: str | Path, delay_seconds: float = 0.0):
        upstream_socket = Path(upstream_socket)
        self.upstream_socket = str(upstream_socket)
        self.socket_dir = tempfile.mkdtemp(prefix="wire-proxy-")
        # Same file name as upstream, so the URL keeps its port and only `host` changes.
        self.socket_path = str(Path(self.socket_dir) / upstream_socket.name)
        self.delay_seconds = delay_seconds
        self.counts = Counts()
        self._last_activity = time.monotonic()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.AbstractServer | None = None

    def __enter__(self) -> WireProxy:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(timeout=10)
        return self

    def __exit__(self, *exc_info) -> None:
        async def stop():
            self._server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        if self._server is not None:
            asyncio.run_coroutine_threadsafe(stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        shutil.rmtree(self.socket_dir, ignore_errors=True)

    def snapshot(self, quiet_seconds: float = 0.05) -> Counts:
        """The counts once no byte has moved for `quiet_seconds` (so trailing writes land)."""
        while time.monotonic() - self._last_activity < quiet_seconds:
            time.sleep(quiet_seconds / 2)
        result = asyncio.run_coroutine_threadsafe(self._copy(), self._loop)
        return result.result(timeout=10)

    async def _copy(self) -> Counts:
        return Counts(**{f.name: getattr(self.counts, f.name) for f in fields(Counts)})

    async def _listen(self) -> None:
        self._server = await asyncio.start_unix_server(self._serve, path=self.socket_path)

    async def _serve(self, client_reader, client_writer) -> None:
        self.counts.connections += 1
        state = _Connection(self.counts)
        try:
            server_reader, server_writer = await asyncio.open_unix_connection(self.upstream_socket)
        except OSError:
            client_writer.close()
            return
        with contextlib.suppress(asyncio.CancelledError):  # the proxy is stopping
            await asyncio.gather(
                self._pump(client_reader, server_writer, state.from_client, delay=True),
                self._pump(server_reader, client_writer, state.from_server, delay=False),
            )

    async def _pump(self, reader, writer, account, delay: bool) -> None:
        try:
            while data := await reader.read(65536):
                self._last_activity = time.monotonic()
                starts_exchange = account(data)
                if delay and starts_exchange and self.delay_seconds:
                    await asyncio.sleep(self.delay_seconds)
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
            self._last_activity = time.monotonic()
