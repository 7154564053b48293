"""The tree's promise, checked: imports in `shared/` only point inward.

entrypoints -> service -> domain; adapters provide what the service's ports ask for. The domain
imports nothing but itself and the standard library (no Flask, SQLAlchemy or pydantic), and no
inner layer imports an outer one. `bootstrap.py` is the one place that wires adapters in.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
RANK = {"domain": 0, "service": 1, "adapters": 2, "entrypoints": 3}
THIRD_PARTY_OUTSIDE_THE_DOMAIN = ("flask", "sqlalchemy", "pydantic", "pg8000", "jwt", "boto3")


def modules() -> list[Path]:
    return sorted(SHARED.rglob("*.py"))


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "shared" and parts[1] in RANK else None


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(SHARED)))
def test_imports_point_inward(path):
    relative = path.relative_to(SHARED).parts
    own = relative[0] if relative[0] in RANK else None
    for module in imported(path):
        target = layer_of(module)
        if own is not None and target is not None:
            assert RANK[target] <= RANK[own], f"{path.name} ({own}) imports {module}"
        if own == "domain":
            assert module.split(".")[0] != "shared" or target == "domain", module
            assert not module.startswith(THIRD_PARTY_OUTSIDE_THE_DOMAIN), module


def test_only_the_bootstrap_wires_adapters_into_entry_points():
    for path in modules():
        wiring = {m for m in imported(path) if layer_of(m) == "adapters"}
        if path.parent.name == "entrypoints":
            assert not wiring, f"{path.name} imports {wiring}: wire it in bootstrap.py"
