"""The bench's delaying proxy (bench/delay_proxy.c): every byte through, in order, later."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pg8000.native
import pytest
from sqlalchemy.engine import make_url

from bench.delay_proxy import DelayProxy


@pytest.fixture
def upstream(tmp_path):
    """A unix-socket server that echoes what it reads; a client sending b"bye!" gets it back
    and then the end of the stream (the server closes first)."""
    path = tmp_path / "upstream.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen()

    def serve(connection: socket.socket) -> None:
        with connection:
            while data := connection.recv(65536):
                connection.sendall(data)
                if data.endswith(b"bye!"):
                    return

    def accept() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:  # closed: the test is over
                return
            threading.Thread(target=serve, args=(connection,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield path
    listener.close()


def connect(proxy: DelayProxy) -> socket.socket:
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.connect(proxy.socket_path)
    return client


def receive(client: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size and (chunk := client.recv(size - len(data))):
        data += chunk
    return data


def test_forwards_every_byte_in_order_both_ways(upstream):
    """Exchanges as PostgreSQL's clients make them (send, then read the whole answer), from
    one byte to several of the proxy's 64 KiB chunks, on three connections at once."""
    sizes = [1, 100, 65536, 65537, 150_000, 7, 120_000]
    with DelayProxy(upstream, 0.001) as proxy:
        clients = [connect(proxy) for _ in range(3)]
        mismatches: list[tuple[int, int]] = []

        def exchanges(n: int, client: socket.socket) -> None:
            for size in sizes:
                payload = os.urandom(size)
                client.sendall(payload)
                if receive(client, size) != payload:
                    mismatches.append((n, size))

        threads = [threading.Thread(target=exchanges, args=(n, c)) for n, c in enumerate(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for client in clients:
            client.close()
    assert mismatches == []


def test_delivers_the_servers_last_words_before_closing(upstream):
    with DelayProxy(upstream, 0.05) as proxy, connect(proxy) as client:
        client.sendall(b"bye!")
        assert receive(client, 4) == b"bye!"
        assert client.recv(1) == b""  # then the end of the stream


def test_each_answer_waits_the_delay(upstream):
    """A lower bound only: holding a chunk guarantees at least the delay, whatever the load."""
    with DelayProxy(upstream, 0.05) as proxy, connect(proxy) as client:
        started = time.perf_counter()
        for n in range(4):
            client.sendall(b"ping %d" % n)
            assert receive(client, 6) == b"ping %d" % n
        elapsed = time.perf_counter() - started
    assert elapsed >= 4 * 0.05


def test_postgresql_through_the_proxy(database_url):
    """What the bench does with it: pg8000 sessions, answers bigger than one chunk."""
    url = make_url(database_url)
    with DelayProxy.for_url(database_url, 0.001) as proxy:
        assert Path(proxy.socket_path).name == f".s.PGSQL.{url.port or 5432}"
        connection = pg8000.native.Connection(
            url.username or "postgres", unix_sock=proxy.socket_path, database=url.database
        )
        try:
            (row,) = connection.run("select length(repeat('x', 300000)), repeat('ab', 100000)")
            assert row == [300000, "ab" * 100000]
        finally:
            connection.close()
        assert proxy.cpu_seconds() >= 0
