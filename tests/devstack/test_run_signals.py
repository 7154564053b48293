"""`make run` (python -m devstack.run) stops everything it started, however it is stopped, and
a start on a busy port says which port and what to do.

Each test starts the real thing on free ports against the test database, as a process of its
own; only the processes it started are ever signalled or, if the test fails, killed.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from devstack import stack

ROOT = Path(__file__).resolve().parents[2]
CONFIG_FILE = stack.FRONTEND_DIR / "config.js"
STARTED = "The shop is up"


def _bindable(port: int) -> bool:
    """Can a server bind the port (as ours do, with SO_REUSEADDR)?"""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((stack.HOST, port))
        except OSError:
            return False
    return True


def _free_ports() -> list[int]:
    """Free ports for the gateway and, after it, the four functions (in a row)."""
    for _ in range(200):
        first = random.randrange(20_000, 60_000)
        ports = [first + i for i in range(5)]
        if all(_bindable(port) for port in ports):
            return ports
    raise RuntimeError("no five free ports in a row")


def _children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue  # gone meanwhile
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    return children


def _descendants(pid: int) -> set[int]:
    children, found, todo = _children(), set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited; only its parent's bookkeeping is left


class Run:
    """One `make run`: its process, its output, and every process under it."""

    def __init__(self, command: list[str], env: dict):
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # signals reach it only from this test, as we choose
        )
        # Both pipes are read all along: the functions log to them too, and a full pipe would
        # stall them.
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self.started = threading.Event()
        self.seen: set[int] = set()
        threading.Thread(target=self._read, args=(self.process.stdout, self.stdout)).start()
        threading.Thread(target=self._read, args=(self.process.stderr, self.stderr)).start()

    def _read(self, pipe, lines: list[str]) -> None:
        for line in pipe:
            lines.append(line)
            if STARTED in line:
                self.started.set()

    def wait_until_up(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while not self.started.wait(0.5):
            assert self.process.poll() is None, self.errors()
            assert time.monotonic() < deadline, "".join(self.stdout)
        self.seen = _descendants(self.process.pid)

    def exit_code(self, timeout: float = 120) -> int:
        code = self.process.wait(timeout=timeout)
        time.sleep(0.2)  # the readers catch up with the last lines
        return code

    def errors(self) -> str:
        return "".join(self.stderr)

    def survivors(self, timeout: float = 15) -> set[int]:
        deadline = time.monotonic() + timeout
        while {p for p in self.seen if _alive(p)} and time.monotonic() < deadline:
            time.sleep(0.2)
        return {p for p in self.seen if _alive(p)}

    def clean_up(self) -> None:
        """Whatever this test started and is still running: killed, by its own id."""
        for pid in [self.process.pid, *self.seen]:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(timeout=30)


@pytest.fixture
def keep_config_js():
    """devstack.run writes frontend/config.js for its stack: put the developer's back."""
    before = CONFIG_FILE.read_bytes() if CONFIG_FILE.exists() else None
    yield
    if before is None:
        CONFIG_FILE.unlink(missing_ok=True)
    else:
        CONFIG_FILE.write_bytes(before)


@pytest.fixture
def start_run(database_url, keep_config_js):
    """`start_run(ports=None, command=None, **env)` -> (a Run, its ports: the gateway's, then
    the functions'), on free ports unless given; cleaned up after the test."""
    runs = []

    def start(ports=None, command=None, **env) -> tuple[Run, list[int]]:
        gateway, *functions = ports or _free_ports()
        settings = {
            "DATABASE_URL": database_url,
            "DEVSTACK_GATEWAY_PORT": str(gateway),
            "DEVSTACK_FUNCTIONS_PORT": str(functions[0]),
            "PYTHONUNBUFFERED": "1",
            "WORKERS": "1",  # one gunicorn worker per function: the same shape, started sooner
            **env,
        }
        run = Run(command or [sys.executable, "-m", "devstack.run"], {**os.environ, **settings})
        runs.append(run)
        return run, [gateway, *functions]

    yield start
    for run in runs:
        run.clean_up()


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_signal_stops_every_process_and_frees_every_port(start_run, stop_signal):
    run, ports = start_run()
    run.wait_until_up()
    assert len(run.seen) >= 4, "expected the four function processes under it"
    assert not any(_bindable(port) for port in ports)

    run.process.send_signal(stop_signal)
    assert run.exit_code(timeout=60) == 0, run.errors()
    assert run.survivors() == set()
    assert all(_bindable(port) for port in ports)
    assert "Traceback" not in run.errors()


def test_make_run_stopped_by_a_process_manager_stops_everything(start_run):
    """The case from the issue: SIGTERM to `make`, which passes it on to its command."""
    run, ports = start_run(command=["make", "--no-print-directory", "run"])
    run.wait_until_up()
    run.process.send_signal(signal.SIGTERM)
    run.exit_code(timeout=60)
    assert run.survivors() == set()
    assert all(_bindable(port) for port in ports)


@pytest.mark.parametrize(
    "busy, setting", [(0, "DEVSTACK_GATEWAY_PORT"), (1, "DEVSTACK_FUNCTIONS_PORT")]
)
def test_a_busy_port_is_named_with_what_to_do(start_run, busy, setting):
    ports = _free_ports()
    with socket.socket() as squatter:
        squatter.bind((stack.HOST, ports[busy]))
        squatter.listen()
        run, _ = start_run(ports)
        assert run.exit_code() != 0
    stderr = run.errors()
    assert f"port {ports[busy]} " in stderr and setting in stderr, stderr
    assert "stop the other `make run`" in stderr
    assert "Traceback" not in stderr
    assert all(_bindable(port) for port in ports)


def test_a_bad_setting_is_one_clear_line(start_run):
    run, _ = start_run(DEVSTACK_GATEWAY_PORT="five")
    assert run.exit_code() != 0
    stderr = run.errors()
    assert "DEVSTACK_GATEWAY_PORT must be a whole number" in stderr
    assert "Traceback" not in stderr
