"""Each zip deploys on its own: unpacked alone, in a fresh Python that sees nothing else, its
`handler` serves a real HTTP API v2 event against the test database.

Built for the running interpreter's version, not 3.12 (see conftest.built_packages): the
fresh Python must be able to load the precompiled .pyc files.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from deploy import package
from tests.deploy.locks import lock, normalized
from tests.support import http_api_event, lambda_context

# Run with -I -S: no site-packages, no PYTHONPATH, no current directory; only the package.
_INVOKE = """
import json, sys
sys.path.insert(0, {folder!r})
import main
event, context = json.loads(sys.stdin.read())
from types import SimpleNamespace
result = main.handler(event, SimpleNamespace(**context))
print(json.dumps({{"result": result, "paths": sorted({{getattr(m, "__file__", None) or ""
    for m in list(sys.modules.values())}})}}))
"""


def invoke(folder: Path, event: dict) -> dict:
    context = {k: v for k, v in vars(lambda_context()).items() if not callable(v)}
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    ran = subprocess.run(
        [sys.executable, "-I", "-S", "-c", _INVOKE.format(folder=str(folder))],
        input=json.dumps([event, context]),
        capture_output=True,
        text=True,
        cwd=folder,
        env=env,
    )
    assert ran.returncode == 0, ran.stderr[-3000:]
    report = json.loads(ran.stdout.splitlines()[-1])
    stdlib = os.path.dirname(os.__file__)
    outside = [p for p in report["paths"] if p and not p.startswith((str(folder), stdlib))]
    assert not outside, f"loaded from outside the package: {outside[:5]}"
    return report["result"]


def test_add_item_and_checkout_packages_work_alone(unpacked, new_user, admin):
    add_item, checkout = unpacked("add_item"), unpacked("checkout")
    product = admin.create_product(stock=4, price_cents=990)
    user, token = new_user()
    auth = {"Authorization": token}

    added = invoke(add_item, http_api_event("/add-item", {"product_id": product}, headers=auth))
    assert added["statusCode"] == 200, added
    assert json.loads(added["body"]) == {"product_id": product, "quantity": 1}

    placed = invoke(checkout, http_api_event("/checkout", {}, headers=auth))
    assert placed["statusCode"] == 200, placed
    order = json.loads(placed["body"])
    assert order["total_cents"] == 990 and admin.stock(product) == 3
    # No queue configured: the event waits in the outbox.
    assert (
        admin.scalar(
            "select count(*) from outbox where order_id = :o and sent_at is null",
            o=order["order_id"],
        )
        == 1
    )


def test_remove_item_and_relay_packages_work_alone(unpacked, new_user, admin):
    remove_item, relay = unpacked("remove_item"), unpacked("relay_outbox")
    product = admin.create_product(stock=4)
    _, token = new_user()
    event = http_api_event(
        "/remove-item", {"product_id": product}, headers={"Authorization": token}
    )
    result = invoke(remove_item, event)
    assert result["statusCode"] == 404  # nothing in the cart: the command ran
    assert json.loads(result["body"])["error"]["code"] == "item_not_in_cart"
    assert set(invoke(relay, {"version": "0", "source": "aws.events"})) == {
        "sent",
        "failed",
        "pending",
    }


@pytest.mark.parametrize("name", package.FUNCTIONS)
def test_a_package_holds_its_own_code_and_nothing_it_does_not_need(built_packages, name):
    with zipfile.ZipFile(built_packages[0] / f"{name}.zip") as archive:
        names = set(archive.namelist())
        main = archive.read("main.py").decode()
    assert f"def {name}(" in main  # its own main.py, at the root: handler main.handler
    assert not any(n.startswith("functions/") for n in names)  # no other function's code
    assert not any(n.startswith("devstack/") for n in names)  # development only
    tops = {n.split("/")[0] for n in names}
    assert {"shared", "flask", "sqlalchemy", "pg8000", "apig_wsgi"} <= tops
    assert not {"boto3", "botocore", "functions_framework", "gunicorn", "pytest"} & tops


def test_every_module_is_precompiled_with_unchecked_hash_pycs(unpacked):
    """Flags 0b01: hash-based and not checked, so zip timestamps cannot invalidate them."""
    folder = unpacked("checkout")
    sources = [p for p in folder.rglob("*.py") if p.parent.name != "__pycache__"]
    assert len(sources) > 100
    missing, checked = [], []
    for source in sources:
        pyc = Path(importlib.util.cache_from_source(str(source)))
        if not pyc.exists():
            missing.append(source)
        elif int.from_bytes(pyc.read_bytes()[4:8], "little") != 0b01:
            checked.append(pyc)
    assert not missing and not checked, (missing[:3], checked[:3])


def test_zips_are_byte_for_byte_reproducible(tmp_path):
    """Same files, same zip, whatever their timestamps: CloudFormation then leaves an unchanged
    function alone."""
    folder = tmp_path / "src"
    package.copy_sources(package.ROOT / "shared", folder / "shared")
    package.write_zip([folder], tmp_path / "first.zip")
    for path in folder.rglob("*"):
        os.utime(path, (1e9, 1e9))
    package.write_zip([folder], tmp_path / "second.zip")
    assert (tmp_path / "first.zip").read_bytes() == (tmp_path / "second.zip").read_bytes()


def test_a_missing_target_python_is_a_clear_error():
    with pytest.raises(SystemExit, match="a Python 2.1 is needed to precompile"):
        package.interpreter_for("2.1")


def test_a_zip_ships_exactly_the_runtime_lock(built_packages):
    """Every distribution in the zip is one pinned in requirements.txt, at its locked version,
    and every locked one is there (pip checked each wheel against the lock's hashes)."""
    with zipfile.ZipFile(built_packages[0] / "checkout.zip") as archive:
        folders = {n.split("/")[0] for n in archive.namelist()}
    shipped = {
        (normalized(name), version)
        for name, version in (
            f.removesuffix(".dist-info").split("-") for f in folders if f.endswith(".dist-info")
        )
    }
    assert shipped == set(lock(package.RUNTIME_LOCK))


def test_a_wheel_that_is_not_in_the_lock_is_refused(tmp_path, monkeypatch, capfd):
    """--require-hashes: a lock entry whose hashes match no file of its version stops the build."""
    tampered = tmp_path / "requirements.txt"
    text = package.RUNTIME_LOCK.read_text()
    entry = re.search(
        r"^apig-wsgi==[^\n]*\n((?:\s+--hash=sha256:[0-9a-f]{64}.*\n)+)", text, re.MULTILINE
    )
    fake = "    --hash=sha256:" + "0" * 64 + "\n"
    tampered.write_text(text.replace(entry.group(1), fake))
    monkeypatch.setattr(package, "RUNTIME_LOCK", tampered)
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    with pytest.raises(subprocess.CalledProcessError):
        package.install_dependencies(tmp_path / "target", version)
    assert "DO NOT MATCH THE HASHES" in capfd.readouterr().err
