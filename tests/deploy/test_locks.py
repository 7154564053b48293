"""The Python locks: what `make lock` made of requirements*.in, installed with --require-hashes.

requirements.txt (runtime, the Lambda zips) and requirements-dev.txt (the venv) pin every
transitive dependency with the sha256 of every file of its version; `make lock` regenerates them.
"""

from __future__ import annotations

import re

import pytest

from tests.deploy.locks import inputs, lock
from tests.support import ROOT

RUNTIME, DEV = ROOT / "requirements.txt", ROOT / "requirements-dev.txt"


@pytest.mark.parametrize("path", [RUNTIME, DEV], ids=lambda p: p.name)
def test_every_locked_package_carries_sha256_hashes(path):
    entries = lock(path)
    assert len(entries) > 20
    for entry, hashes in entries.items():
        assert hashes, f"{path.name}: {entry} has no hash"
        assert all(re.fullmatch(r"sha256:[0-9a-f]{64}", h) for h in hashes), entry
    assert "make lock" in path.read_text().splitlines()[1]  # says how it is regenerated


@pytest.mark.parametrize(
    "source, locked", [("requirements.in", RUNTIME), ("requirements-dev.in", DEV)]
)
def test_each_lock_pins_its_inputs_as_written(source, locked):
    entries = lock(locked)
    for name, version in inputs(ROOT / source).items():
        assert (name, version) in entries, f"{source} says {name}=={version}: run `make lock`"


def test_the_runtime_lock_is_the_dev_lock_s_own_versions_and_files():
    """The zips ship exactly the versions (and files) the tests run against."""
    runtime, dev = lock(RUNTIME), lock(DEV)
    for entry, hashes in runtime.items():
        assert entry in dev, f"{entry} is in requirements.txt but not in requirements-dev.txt"
        assert hashes == dev[entry], entry
    assert set(inputs(ROOT / "requirements.in")) <= {name for name, _ in dev}


def test_the_dev_tools_other_issues_use_are_locked():
    dev = {name for name, _ in lock(DEV)}
    assert {"ruff", "schemathesis", "openapi-spec-validator", "uv"} <= dev


def test_make_lock_regenerates_both_locks_with_hashes():
    makefile = (ROOT / "Makefile").read_text()
    rule = makefile[makefile.index("\nlock:") :].split("\n\n")[0]
    assert "requirements-dev.in --output-file requirements-dev.txt" in rule
    assert (
        "requirements.in --constraint requirements-dev.txt --output-file requirements.txt" in rule
    )
    assert "--generate-hashes" in makefile and "--universal" in makefile
    # The venv is rebuilt when either lock changes.
    assert re.search(
        r"^\$\(STAMP\): requirements\.txt requirements-dev\.txt$", makefile, re.MULTILINE
    )
