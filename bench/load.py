"""The load: wrk for single-endpoint scenarios, a small asyncio client for the checkout flow.

Both run in a process of their own beside the servers. wrk is C and barely shows on the CPU;
the checkout flow needs two endpoints per user in order, which wrk cannot sequence, so it is a
keep-alive asyncio client sending prebuilt requests (a few percent of one core at these rates).
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import subprocess
import time
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


def wrk_add_items(
    target: Target, tokens: Path, users: int, products: int, connections: int, seconds: float
) -> Result:
    """`connections` clients adding 1 unit each of random products for random users."""
    command = [
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
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(ln for ln in output.splitlines() if ln.startswith("BENCH_JSON "))
    return Result(**json.loads(line.removeprefix("BENCH_JSON ")))


class _Connection:
    """One keep-alive HTTP/1.1 connection; answers must carry Content-Length (ours and uvicorn do)."""

    def __init__(self, target: Target):
        self.target = target
        self.streams = None

    async def post(self, token: str, body: bytes) -> int:
        if self.streams is None:
            self.streams = await asyncio.open_connection(HOST, self.target.port)
        reader, writer = self.streams
        writer.write(
            b"POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
            % (self.target.path.encode(), HOST.encode(), token.encode(), len(body), body)
        )
        await writer.drain()
        status = int((await reader.readline()).split()[1])
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        await reader.readexactly(length)
        return status

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
