"""The database 1 ms away: bench/delay_proxy.c, built with the machine's gcc and run beside us.

Every "1 ms per exchange" figure of `make bench` (ours, the baseline and pgbench alike) goes
through this proxy, so they stay comparable. bench/wire_proxy.py (asyncio) is kept for what it
is good at, counting exchanges; as a delay it costs a third of a core on this 2-core machine and
caps the curve around 600-760 transactions/s (docs/scaling.md). `tc netem` would do the same
as this proxy in the kernel, but this kernel has none.

The binary is built once per version of the source, into .data/bench/ (gitignored), named after
the source's hash: a changed source is rebuilt, an unchanged one is not.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy.engine import make_url

from bench.wire_proxy import unix_socket_of
from devstack.database import DATA_DIR

SOURCE = Path(__file__).resolve().with_suffix(".c")
BUILD = DATA_DIR / "bench"


class ProxyUnavailable(RuntimeError):
    """The proxy cannot be built or started here."""


def binary() -> Path:
    """The proxy's executable, compiled first when this version of the source has none."""
    digest = hashlib.sha256(SOURCE.read_bytes()).hexdigest()[:12]
    target = BUILD / f"delay_proxy-{digest}"
    if target.exists():
        return target
    gcc = shutil.which("gcc")
    if gcc is None:
        raise ProxyUnavailable(
            "gcc is missing: the 1 ms scenarios need it to build bench/delay_proxy.c"
            " (`make bench` installs it with apt; or `apt-get install gcc`)"
        )
    BUILD.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.{os.getpid()}")
    built = subprocess.run(
        [gcc, "-O2", "-Wall", "-Wextra", "-Werror", "-o", str(partial), str(SOURCE)],
        capture_output=True,
        text=True,
    )
    if built.returncode != 0:
        raise ProxyUnavailable(f"gcc could not build {SOURCE}:\n{built.stderr}")
    partial.replace(target)  # atomic: two benches building at once both end with a whole file
    return target


class DelayProxy:
    """`with DelayProxy.for_url(url, 0.001) as proxy:` then connect to `proxy.url(url)`.

    `cpu_seconds()` is the proxy process's CPU time so far (user + system), read from /proc.
    """

    @classmethod
    def for_url(cls, database_url: str, delay_seconds: float) -> DelayProxy:
        return cls(unix_socket_of(database_url), delay_seconds)

    def __init__(self, upstream_socket: str | Path, delay_seconds: float):
        self.upstream_socket = Path(upstream_socket)
        self.delay_seconds = delay_seconds
        self.socket_dir = ""
        self._process: subprocess.Popen | None = None

    @property
    def socket_path(self) -> str:
        # Same file name as upstream, so a URL keeps its port and only `host` changes.
        return str(Path(self.socket_dir) / self.upstream_socket.name)

    def url(self, database_url: str) -> str:
        """`database_url` pointed at the proxy instead of the server."""
        url = make_url(database_url)
        url = url.set(query={**url.query, "host": self.socket_dir})
        return url.render_as_string(hide_password=False)

    def __enter__(self) -> DelayProxy:
        executable = binary()
        self.socket_dir = tempfile.mkdtemp(prefix="delay-proxy-")
        micros = str(round(self.delay_seconds * 1_000_000))
        self._process = subprocess.Popen(
            [str(executable), self.socket_path, str(self.upstream_socket), micros],
            stdout=subprocess.PIPE,
            text=True,
        )
        if self._process.stdout.readline().strip() != "listening":
            self.__exit__(None, None, None)
            raise ProxyUnavailable(f"{executable} did not start (its error is above)")
        return self

    def __exit__(self, *exc_info) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process.stdout.close()
        shutil.rmtree(self.socket_dir, ignore_errors=True)

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self._process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
