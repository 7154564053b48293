"""`make package`: dist/<function>.zip for each function, each deployable on its own to Lambda.

A zip holds the function's own folder at its root (so the handler is `main.handler`), `shared/`
and the runtime dependencies locked in requirements.txt as
manylinux x86_64 wheels for the target Python, fetched by pip without Docker and checked against
the lock's hashes (`--require-hashes`). Every module is
precompiled to an unchecked-hash .pyc: valid whatever zipping does to timestamps, so a cold start
compiles nothing. Entries are sorted and dated 1980-01-01, so an unchanged function gives a
byte-identical zip and CloudFormation leaves it alone.

    python -m deploy.package [--python-version 3.12] [--out dist] [function ...]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from functions import registry

ROOT = Path(__file__).resolve().parent.parent
RUNTIME_LOCK = ROOT / "requirements.txt"  # made by `make lock` from requirements.in
FUNCTIONS = registry.NAMES
LAMBDA_PYTHON = "3.12"
# The Lambda python3.12 runtime runs on Amazon Linux 2023 (glibc 2.34).
PLATFORMS = ("manylinux2014_x86_64", "manylinux_2_28_x86_64", "manylinux_2_34_x86_64")
SKIPPED_DIRS = {"__pycache__", "bin"}
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def interpreter_for(version: str, given: str | None = None) -> str:
    """A Python of the target version: .pyc files are only valid for the version that wrote them.

    Tried in order: `given` (--python or $PACKAGE_PYTHON), this interpreter, python<version>
    on PATH, then one installed by pyenv.
    """
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    candidates = [given, sys.executable if here == version else None, f"python{version}"]
    if shutil.which("pyenv"):
        prefix = subprocess.run(["pyenv", "prefix", version], capture_output=True, text=True)
        if prefix.returncode == 0:
            candidates.append(f"{prefix.stdout.strip()}/bin/python{version}")
    probe = "import sys; print('%d.%d' % sys.version_info[:2])"
    for candidate in filter(None, candidates):
        found = shutil.which(candidate)
        if found is None:
            continue
        ran = subprocess.run([found, "-c", probe], capture_output=True, text=True)
        if ran.returncode == 0 and ran.stdout.strip() == version:
            return found
    raise SystemExit(
        f"a Python {version} is needed to precompile the packages: install it (CI uses "
        f"actions/setup-python), give its path with --python or PACKAGE_PYTHON, or build for "
        f"another runtime with --python-version"
    )


def install_dependencies(target: Path, python_version: str) -> None:
    """The runtime lock's wheels for the target platform, each checked against its hash.

    requirements.txt is resolved within the dev lock, so it pins every transitive dependency to
    the version the tests run against, with the hashes of every file of that version: pip
    refuses any wheel that is not one of those files, whichever index or mirror served it.
    """
    platforms = [arg for platform in PLATFORMS for arg in ("--platform", platform)]
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        + ["--no-compile", "--no-warn-conflicts", "--target", str(target), "--implementation", "cp"]
        + ["--python-version", python_version, "--only-binary=:all:", *platforms]
        + ["--require-hashes", "--requirement", str(RUNTIME_LOCK)],
        check=True,
    )
    for skipped in SKIPPED_DIRS:
        shutil.rmtree(target / skipped, ignore_errors=True)


def copy_sources(source: Path, target: Path) -> None:
    """Copy a source folder's .py files, leaving out caches."""
    for path in sorted(source.rglob("*.py")):
        if SKIPPED_DIRS & set(path.parts):
            continue
        destination = target / path.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, destination)


def precompile(folder: Path, python: str) -> None:
    subprocess.run(
        [python, "-m", "compileall", "-q", "-j", "0"]
        + ["--invalidation-mode", "unchecked-hash", str(folder)],
        check=True,
    )


def write_zip(folders: list[Path], zip_path: Path) -> None:
    files = {}
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file():
                files[path.relative_to(folder).as_posix()] = path
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16  # readable by the Lambda runtime's user
            archive.writestr(info, files[name].read_bytes())


def build(
    functions: tuple[str, ...], out: Path, python_version: str, python: str | None = None
) -> dict[str, int]:
    """Build each function's zip into `out`; returns the size of each in bytes."""
    python = interpreter_for(python_version, python)
    sizes = {}
    with tempfile.TemporaryDirectory(prefix="package-") as tmp:
        common = Path(tmp) / "common"  # dependencies and shared/, the same in every zip
        install_dependencies(common, python_version)
        copy_sources(ROOT / "shared", common / "shared")
        precompile(common, python)
        for name in functions:
            own = Path(tmp) / name
            copy_sources(ROOT / "functions" / name, own)
            precompile(own, python)
            zip_path = out / f"{name}.zip"
            write_zip([common, own], zip_path)
            sizes[name] = zip_path.stat().st_size
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description="Build dist/<function>.zip for AWS Lambda.")
    parser.add_argument("functions", nargs="*", choices=[*FUNCTIONS, []], metavar="function")
    parser.add_argument("--out", type=Path, default=ROOT / "dist")
    parser.add_argument("--python-version", default=LAMBDA_PYTHON, help="default: %(default)s")
    parser.add_argument("--python", default=os.environ.get("PACKAGE_PYTHON"), help="its path")
    args = parser.parse_args()
    functions = tuple(args.functions or FUNCTIONS)
    sizes = build(functions, args.out, args.python_version, args.python)
    for name, size in sizes.items():
        print(f"{args.out / (name + '.zip')}: {size / 1024 / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
