"""The one list of functions: what each is called, how it is triggered, where it answers.

`deploy/` packages these, `devstack/` and `bench/` run them, the tests load them, and a test
checks `serverless.yml` against this list. Adding a function is a folder under `functions/` and a
line here. Nothing here is deployed: each function's zip holds only its own folder and `shared/`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

FOLDER = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Function:
    name: str  # its folder, its functions-framework target and its name in logs
    route: str | None = None  # POST /<route> (HTTP API, `/functions/v1/<route>` locally)
    schedule: str | None = None  # an EventBridge schedule expression

    @property
    def deployed_name(self) -> str:
        """Its key under `functions:` in serverless.yml (Lambda: shopping-system-<stage>-<this>)."""
        return self.name.replace("_", "-")

    @property
    def source(self) -> Path:
        return FOLDER / self.name / "main.py"


FUNCTIONS = (
    Function("add_item", route="add-item"),
    Function("remove_item", route="remove-item"),
    Function("checkout", route="checkout"),
    Function("release_expired_carts", schedule="rate(1 minute)"),
    Function("relay_outbox", schedule="rate(1 minute)"),
)
COMMANDS = tuple(f for f in FUNCTIONS if f.route)
JOBS = tuple(f for f in FUNCTIONS if f.schedule)
NAMES = tuple(f.name for f in FUNCTIONS)


def named(name: str) -> Function:
    return next(f for f in FUNCTIONS if f.name == name)
