"""The load: wrk for single-endpoint scenarios, a small asyncio client for the checkout flow.

Both run in a process of their own beside the servers. wrk is C and barely shows on the CPU;
the checkout flow needs two endpoints per user in order, which wrk cannot sequence, so it is a
keep-alive asyncio client sending prebuilt requests (a few percent of one core at these rates).
"""

from __future__ import annotations

import asyncio
import json
import random
import signal
import statistics
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.stack import HOST, Target

LUA = Path(__file__).resolve().parent / "lua" / "add_item.lua"


@dataclass
class Result:
    requests: int
    seconds: float
    non_2xx: int
    socket_errors: int
    p50_ms: float
    p99_ms: float
    extra: dict = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def _wrk_command(
    target: Target,
    tokens: Path,
    users: int,
    products: int,
    connections: int,
    seconds: float,
    first_product: int,
) -> list[str]:
    return [
        "wrk",
        "-t2",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout=10s",
        f"-s{LUA}",
        f"http://{HOST}:{target.port}",
        "--",
        str(tokens),
        str(users),
        str(products),
        target.path,
        str(first_product),
    ]


def _wrk_result(output: str) -> Result:
    line = next(ln for ln in output.splitlines() if ln.startswith("BENCH_JSON "))
    return Result(**json.loads(line.removeprefix("BENCH_JSON ")))


def wrk_add_items(
    target: Target,
    tokens: Path,
    users: int,
    products: int,
    connections: int,
    seconds: float,
    first_product: int = 1,
) -> Result:
    """`connections` clients adding 1 unit each of random products for random users; the
    answers counted by status and error code in `extra["statuses"]`."""
    command = _wrk_command(target, tokens, users, products, connections, seconds, first_product)
    return _wrk_result(subprocess.run(command, capture_output=True, text=True, check=True).stdout)


class BackgroundAdds:
    """wrk_add_items until `stop()`, for load that must last as long as something else does.
    wrk reports what it did when interrupted (SIGINT), over the time it actually ran."""

    def __init__(
        self,
        target: Target,
        tokens: Path,
        users: int,
        products: int,
        connections: int,
        first_product: int = 1,
        limit_seconds: float = 900,
    ):
        command = _wrk_command(
            target, tokens, users, products, connections, limit_seconds, first_product
        )
        self._process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)

    def stop(self) -> Result:
        self._process.send_signal(signal.SIGINT)
        output, _ = self._process.communicate(timeout=60)
        return _wrk_result(output)


class _Connection:
    """One keep-alive HTTP/1.1 connection; answers must carry Content-Length (ours and uvicorn do)."""

    def __init__(self, target: Target):
        self.target = target
        self.streams = None

    async def post(self, token: str, body: bytes) -> int:
        return (await self.exchange(token, body))[0]

    async def exchange(self, token: str, body: bytes) -> tuple[int, bytes]:
        """POST `body`; the answer's status and body.

        gunicorn closes a keep-alive connection idle for 2 s (a checkout's connection waits
        while its user adds 3 products, which a busy machine can stretch past that): a request
        that finds the connection closed before any answer was never read, and is sent again on
        a new one."""
        request = (
            b"POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
            % (self.target.path.encode(), HOST.encode(), token.encode(), len(body), body)
        )
        for attempt in (1, 2):
            if self.streams is None:
                self.streams = await asyncio.open_connection(HOST, self.target.port)
            reader, writer = self.streams
            try:
                writer.write(request)
                await writer.drain()
                status_line = await reader.readline()
            except ConnectionError:
                status_line = b""
            if status_line or attempt == 2:
                break
            self.close()
            self.streams = None
        status = int(status_line.split()[1])
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return status, await reader.readexactly(length)

    def close(self) -> None:
        if self.streams:
            self.streams[1].close()


async def _checkout_flows(add: Target, checkout: Target, tokens: list[str], products: int, seconds):
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    orders = 0
    deadline = time.monotonic() + seconds

    async def timed(connection: _Connection, token: str, body: bytes) -> None:
        started = time.perf_counter()
        status = await connection.post(token, body)
        latencies.append(time.perf_counter() - started)
        statuses[status] = statuses.get(status, 0) + 1

    async def user(token: str) -> None:
        nonlocal orders
        adding, paying = _Connection(add), _Connection(checkout)
        try:
            while time.monotonic() < deadline:
                for product in random.sample(range(1, products + 1), 3):
                    await timed(adding, token, b'{"product_id": %d, "quantity": 1}' % product)
                await timed(paying, token, b"{}")
                orders += 1
        finally:
            adding.close()
            paying.close()

    started = time.monotonic()
    await asyncio.gather(*(user(token) for token in tokens))
    return latencies, statuses, orders, time.monotonic() - started


def checkout_flows(
    add: Target, checkout: Target, tokens: list[str], products: int, seconds: float
) -> Result:
    """One client per token: add 3 random products, check out, again, until time is up."""
    latencies, statuses, orders, elapsed = asyncio.run(
        _checkout_flows(add, checkout, tokens, products, seconds)
    )
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return Result(
        requests=len(latencies),
        seconds=elapsed,
        non_2xx=sum(n for status, n in statuses.items() if not 200 <= status < 300),
        socket_errors=0,
        p50_ms=cuts[49] * 1000,
        p99_ms=cuts[98] * 1000,
        extra={"orders": orders, "orders_per_s": orders / elapsed if elapsed else 0.0},
    )


async def _sell_out(add: Target, tokens: list[str], product: int, clients: int, limit_seconds):
    answers: Counter[str] = Counter()
    latencies: list[float] = []
    deadline = time.monotonic() + limit_seconds
    body = b'{"product_id": %d, "quantity": 1}' % product

    async def client() -> None:
        connection = _Connection(add)
        try:
            while time.monotonic() < deadline:
                started = time.perf_counter()
                status, answer = await connection.exchange(random.choice(tokens), body)
                latencies.append(time.perf_counter() - started)
                code = json.loads(answer).get("error", {}).get("code") if status >= 300 else ""
                answers[f"{status} {code}".strip()] += 1
                if code == "insufficient_stock":
                    return
        finally:
            connection.close()

    started = time.monotonic()
    await asyncio.gather(*(client() for _ in range(clients)))
    return answers, latencies, time.monotonic() - started


def sell_out(
    add: Target, tokens: list[str], product: int, clients: int, limit_seconds: float = 120
) -> Result:
    """`clients` clients, each adding 1 unit of `product` for a random user per request until
    it is told `insufficient_stock`; every answer is read and counted in `extra["statuses"]`."""
    answers, latencies, elapsed = asyncio.run(
        _sell_out(add, tokens, product, clients, limit_seconds)
    )
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return Result(
        requests=len(latencies),
        seconds=elapsed,
        non_2xx=sum(n for key, n in answers.items() if not key.startswith("2")),
        socket_errors=0,
        p50_ms=cuts[49] * 1000,
        p99_ms=cuts[98] * 1000,
        extra={"statuses": dict(answers)},
    )
