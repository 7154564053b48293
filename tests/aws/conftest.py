"""AWS stood in for by moto (the one thing the house rules let us fake), and env changes that
reset the per-cold-start caches around each test."""

from __future__ import annotations

import pytest
from moto import mock_aws

from shared.adapters import sqs
from shared.config import settings
from tests.conftest import reset_caches

REGION = "eu-west-1"


@pytest.fixture
def aws(monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    sqs._client.cache_clear()  # a client made outside the mock would reach out
    with mock_aws():
        yield
    sqs._client.cache_clear()


@pytest.fixture
def env(monkeypatch):
    """`env(NAME=value, OTHER=None)` sets (None: removes) variables as a new cold start sees them."""

    def change(**variables):
        for name, value in variables.items():
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
        reset_caches()

    yield change
    monkeypatch.undo()
    reset_caches()
    settings.cache_clear()
