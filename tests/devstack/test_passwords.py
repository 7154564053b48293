"""Password hashing cost: a setting (DEVSTACK_SCRYPT_LOG2_N), OWASP's 2^17 unless set."""

import base64
import hashlib
import os
import uuid

import pytest

from devstack import settings
from devstack.gateway import passwords


def _cost(stored: str) -> list[str]:
    return stored.split("$")[1:4]


def test_new_hashes_use_the_configured_cost(sign_up, admin):
    shopper = sign_up()
    stored = admin.scalar("select encrypted_password from auth.users where id = :id", id=shopper.id)
    assert os.environ["DEVSTACK_SCRYPT_LOG2_N"] == "10"  # tests/conftest.py, for speed
    assert _cost(stored) == [str(2**10), "8", "1"]


def test_the_default_cost_is_owasps_and_verifies(monkeypatch):
    """2^17 needs 128 MiB, four times OpenSSL's default memory cap: it must still work."""
    monkeypatch.delenv("DEVSTACK_SCRYPT_LOG2_N")
    stored = passwords.hash_password("a-password")
    assert _cost(stored) == [str(2**17), "8", "1"]
    assert passwords.verify_password("a-password", stored)
    assert not passwords.verify_password("another-password", stored)


def _hash_as_stored_before(password: str) -> str:
    """What the gateway stored while the cost was fixed at 2^14 (same format, own code)."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return f"scrypt$16384$8$1${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def test_an_older_hash_still_signs_in_and_is_brought_up_to_the_current_cost(gateway, admin):
    email = f"old-hash-{uuid.uuid4().hex[:10]}@example.com"
    admin.execute(
        "insert into auth.users (email, encrypted_password) values (:e, :h)",
        e=email,
        h=_hash_as_stored_before("an-old-password"),
    )
    wrong = gateway.post(
        "/auth/v1/token?grant_type=password", {"email": email, "password": "not-it"}
    )
    assert (wrong.status, wrong.body["code"]) == (400, "invalid_credentials")
    stored = admin.scalar("select encrypted_password from auth.users where email = :e", e=email)
    assert _cost(stored) == ["16384", "8", "1"]  # a wrong password changes nothing

    answer = gateway.post(
        "/auth/v1/token?grant_type=password", {"email": email, "password": "an-old-password"}
    )
    assert answer.status == 200, answer.body
    stored = admin.scalar("select encrypted_password from auth.users where email = :e", e=email)
    assert _cost(stored) == [str(2**10), "8", "1"]
    again = gateway.post(
        "/auth/v1/token?grant_type=password", {"email": email, "password": "an-old-password"}
    )
    assert again.status == 200, again.body


@pytest.mark.parametrize("value", ["fast", "9", "21", "17.5"])
def test_an_unusable_cost_is_a_clear_setting_error(monkeypatch, value):
    monkeypatch.setenv("DEVSTACK_SCRYPT_LOG2_N", value)
    with pytest.raises(settings.SettingError, match="DEVSTACK_SCRYPT_LOG2_N"):
        settings.check()
