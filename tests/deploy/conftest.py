"""The deployment packages, built once per test session (pip fetches wheels; that takes a while)."""

from __future__ import annotations

import sys
import zipfile

import pytest

from deploy import package


@pytest.fixture(scope="session")
def built_packages(tmp_path_factory):
    """dist/<function>.zip for every function, for this interpreter's Python version.

    Lambda runs 3.12 and `make package` builds for it, but .pyc files only load on the version
    that wrote them, and this machine's tests run on whatever Python the venv has: so the zips
    under test are built for the running version, by the same code with --python-version.
    """
    out = tmp_path_factory.mktemp("dist")
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    sizes = package.build(package.FUNCTIONS, out, version)
    return out, sizes


@pytest.fixture(scope="session")
def unpacked(built_packages, tmp_path_factory):
    """`unpacked(function)` -> a folder holding that zip's files and nothing else."""
    folders = {}

    def unpack(name: str):
        if name not in folders:
            folders[name] = tmp_path_factory.mktemp(name)
            with zipfile.ZipFile(built_packages[0] / f"{name}.zip") as archive:
                archive.extractall(folders[name])
        return folders[name]

    return unpack
