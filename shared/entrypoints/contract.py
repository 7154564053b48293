"""What each function promises over HTTP, recorded by its wrapper on the endpoint it returns.

functions/openapi.py reads these to write docs/openapi.json, so the document is derived from the
same objects the endpoint validates with, never from a second list. The failures a route can
answer are the wrapper's own (every row of the error table that is not a domain rule) plus the
domain refusals its use case names (`REFUSALS` in each module of shared/service/).
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel


@dataclass(frozen=True)
class Contract:
    name: str
    answer: type[BaseModel]  # the 200 body
    request: type[BaseModel] | None = None  # None: a scheduled job, which reads no body
    refusals: tuple[type[Exception], ...] = ()
