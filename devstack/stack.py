"""The running local stack: one process per function and the gateway in front of them.

Used by `make run` and by the tests, which run it on free ports so they never clash with a
developer's `make run`. Binds 127.0.0.1 only. Each function's stderr (its JSON log lines) is read
through a pipe, passed on unchanged to where it went before (this terminal, or its log file) and
fed to `ops`, the figures the gateway's /ops page shows (devstack/ops.py).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import Engine, create_engine
from werkzeug.serving import WSGIRequestHandler, make_server

from devstack import database, devkeys, ops
from devstack.gateway import app as gateway_app
from devstack.gateway import tokens
from functions import registry
from shared.adapters.postgres.connection import pg8000_url

HOST = "127.0.0.1"
DEVSTACK_SQL_DIR = database.ROOT / "devstack" / "sql"
FRONTEND_DIR = database.ROOT / "frontend"
# functions-framework's server setting (gunicorn processes, threads each, and pool size per
# process), chosen with `python -m bench.sweep` (docs/performance.md); the environment overrides.
FUNCTION_SERVER_SETTINGS = {"WORKERS": "2", "THREADS": "4", "DB_POOL_SIZE": "4"}
SCHEDULE_SECONDS = 60


def apply_sql(url: str) -> list[str]:
    """sql/ (what production gets too), then devstack/sql/ (the local auth tables)."""
    return database.apply_sql(url) + database.apply_sql(url, DEVSTACK_SQL_DIR)


class PortInUse(Exception):
    """Another process listens on a port the stack needs; `owner` says what needed it."""

    def __init__(self, port: int, owner: str):
        super().__init__(f"port {port} ({owner}) is in use")
        self.port, self.owner = port, owner


def check_port_free(port: int, owner: str) -> None:
    """Bind the port as the servers will (SO_REUSEADDR, so a closed socket's TIME_WAIT is no
    obstacle): failing here, before anything starts, beats a function that exits at once or,
    worse, a health check answered by a process left over from another run."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise PortInUse(port, owner) from None
            raise


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:
        pass


class LocalStack:
    """`with LocalStack(...) as stack:` starts everything and stops it on the way out."""

    def __init__(
        self,
        database_url: str,
        private_jwk: dict,
        gateway_port: int,
        function_ports: dict[str, int],
        log_dir: Path | None = None,
        scheduled_ports: dict[str, int] | None = None,
        function_env: dict[str, str] | None = None,
    ):
        self.database_url, self.private_jwk = database_url, private_jwk
        self.gateway_port, self.function_ports = gateway_port, function_ports
        # Scheduled functions (no route): started like the others, triggered every minute.
        self.scheduled_ports = scheduled_ports or {}
        self._schedule_stopped = threading.Event()
        self.log_dir = log_dir  # None: logs go to this terminal, as `make run` wants
        self.function_env = function_env or {}  # settings of the functions' own, over the rest
        self.url = f"http://{HOST}:{gateway_port}"
        self.anon_key = tokens.anon_key(private_jwk)
        self.engine: Engine | None = None
        self.ops = ops.Figures()
        self._processes: list[subprocess.Popen] = []
        self._forwarders: list[threading.Thread] = []
        self._server = None

    def __enter__(self) -> LocalStack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        ports = {**self.function_ports, **self.scheduled_ports, "gateway": self.gateway_port}
        for owner, port in ports.items():
            check_port_free(port, owner)
        env = self._function_env()
        for target, port in self.function_ports.items():
            self._processes.append(self._start_function(target, port, env))
        self.engine = create_engine(
            pg8000_url(self.database_url), pool_size=5, max_overflow=10, pool_pre_ping=True
        )
        app = gateway_app.create_app(
            self.engine,
            self.private_jwk,
            self.url,
            {registry.named(t).route: port for t, port in self.function_ports.items()},
            FRONTEND_DIR,
            self.ops,
        )
        handler = _QuietHandler if self.log_dir else WSGIRequestHandler
        self._server = make_server(
            HOST, self.gateway_port, app, threaded=True, request_handler=handler
        )
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        for target, port in self.scheduled_ports.items():
            self._processes.append(self._start_function(target, port, env))
        ports = [*self.function_ports.values(), *self.scheduled_ports.values()]
        for process, port in zip(self._processes, ports, strict=True):
            wait_until_listening(port, process)
        if self.scheduled_ports:
            threading.Thread(target=self._trigger_every_minute, daemon=True).start()

    def _trigger_every_minute(self) -> None:
        """What the platform's scheduler does: POST to each scheduled function every 60 s."""
        while not self._schedule_stopped.wait(SCHEDULE_SECONDS):
            for port in self.scheduled_ports.values():
                with contextlib.suppress(OSError):
                    request = urllib.request.Request(f"http://{HOST}:{port}/", method="POST")
                    urllib.request.urlopen(request, timeout=30).close()

    def stop(self) -> None:
        self._schedule_stopped.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        # One SIGTERM to each gunicorn master, which stops its workers; a group that has not
        # gone after a grace period is killed whole, so no worker outlives the stack.
        for process in self._processes:
            process.terminate()
        for process in self._processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        self._processes = []
        for forwarder in self._forwarders:
            forwarder.join(timeout=5)  # the pipe ends once every process of the group has exited
        self._forwarders = []
        if self.engine is not None:
            self.engine.dispose()
            self.engine = None

    def config_script(self) -> str:
        return gateway_app.config_script(self.url, self.anon_key)

    def _function_env(self) -> dict:
        return {
            **FUNCTION_SERVER_SETTINGS,
            **os.environ,
            "DATABASE_URL": database.functions_url(self.database_url),
            "JWT_JWKS": json.dumps(devkeys.public_jwks(self.private_jwk)),
            # The functions check that tokens were issued by this stack's /auth/v1 (JWT_ISSUER).
            "SUPABASE_URL": self.url,
            "ALLOWED_ORIGINS": os.environ.get("ALLOWED_ORIGINS", self.url),
            "PYTHONPATH": str(database.ROOT),
            **self.function_env,
        }

    def _start_function(self, target: str, port: int, env: dict) -> subprocess.Popen:
        source = registry.named(target).source
        command = [sys.executable, "-m", "functions_framework", f"--target={target}"]
        command += [f"--source={source}", f"--host={HOST}", f"--port={port}"]
        log_path = None if self.log_dir is None else self.log_dir / f"{target}.log"
        with contextlib.ExitStack() as files:  # closed here: the child holds its own copy
            output = None
            if log_path is not None:
                self.log_dir.mkdir(parents=True, exist_ok=True)
                output = files.enter_context(open(log_path, "ab"))
            # A session of its own: Ctrl-C in the terminal reaches only `make run`, which then
            # stops each function once (a second signal mid-shutdown can hang a gunicorn worker).
            process = subprocess.Popen(
                command, env=env, stdout=output, stderr=subprocess.PIPE, start_new_session=True
            )
        forwarder = threading.Thread(
            target=self._forward, args=(process.stderr, log_path), daemon=True
        )
        forwarder.start()
        self._forwarders.append(forwarder)
        return process

    def _forward(self, pipe: BinaryIO, log_path: Path | None) -> None:
        """Pass each line on as it came, then to the figures; never stop reading, or the
        function would block on a full pipe."""
        with pipe, _destination(log_path) as destination:
            for line in iter(pipe.readline, b""):
                with contextlib.suppress(OSError, ValueError):  # a closed terminal, a closed file
                    destination.write(line)
                    destination.flush()
                self.ops.feed(line)


def _destination(log_path: Path | None):
    """Where a function's stderr went before the stack read it: its log file, or this terminal."""
    if log_path is None:
        return contextlib.nullcontext(sys.stderr.buffer)
    return open(log_path, "ab")


def wait_until_listening(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"{process.args[3]} exited with {process.returncode} (port {port} in use?)"
            )
        try:
            urllib.request.urlopen(f"http://{HOST}:{port}/", timeout=1)
            return
        except urllib.error.HTTPError:
            return  # it answered (405 for GET): it is up
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"nothing listening on {HOST}:{port}")
