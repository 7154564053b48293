"""Reading the Python locks (requirements*.txt, made by `make lock`) and their inputs."""

from __future__ import annotations

import re
from pathlib import Path

_ENTRY = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;\\]+)")


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lock(path: Path) -> dict[tuple[str, str], set[str]]:
    """(name, version) -> the hashes listed for it (a universal lock may pin two versions)."""
    entries: dict[tuple[str, str], set[str]] = {}
    current = None
    for line in path.read_text().splitlines():
        found = _ENTRY.match(line)
        if found:
            current = (normalized(found.group(1)), found.group(3))
            entries[current] = set()
        elif line.strip().startswith("--hash=") and current:
            entries[current].add(line.strip().removeprefix("--hash=").rstrip(" \\"))
        elif line.strip() and not line.lstrip().startswith("#"):
            raise AssertionError(f"{path.name}: unexpected line {line!r}")
    return entries


def inputs(path: Path) -> dict[str, str]:
    """The direct requirements of a requirements*.in file: name -> pinned version."""
    pins = {}
    for line in path.read_text().splitlines():
        found = _ENTRY.match(line)
        if found:
            pins[normalized(found.group(1))] = found.group(3)
    return pins
