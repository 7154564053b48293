"""The local stack (functions + gateway) for the browser and devstack tests, on free ports.

Runs against the session's test database and signing key, so `new_user()` tokens work here too,
and never touches the ports of a developer's `make run`.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from devstack import stack
from functions import registry

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((stack.HOST, 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def local_stack(database_url, signing_key):
    stack.apply_sql(database_url)
    function_ports = {f.name: free_port() for f in registry.COMMANDS}
    with stack.LocalStack(
        database_url,
        signing_key,
        free_port(),
        function_ports,
        log_dir=ARTIFACTS / "stack-logs",
    ) as running:
        yield running
