"""/auth/v1 under hostile input: answered at once with GoTrue's error shape, others unharmed."""

import http.client
import json
import threading
import time
import uuid

import pytest

SIGNUP = "/auth/v1/signup"
PASSWORD_GRANT = "/auth/v1/token?grant_type=password"
# Shaped to make a backtracking email pattern try every split of the dots: before the fix one
# such 15 KB request held the GIL for seconds, and every other request of the gateway waited.
HOSTILE_EMAIL = "a@" + "." * 15_000 + "@"


@pytest.mark.parametrize("path", [SIGNUP, PASSWORD_GRANT])
def test_a_hostile_email_is_refused_while_reads_carry_on(gateway, path):
    answers = []
    attack = threading.Thread(
        target=lambda: answers.extend(
            gateway.post(path, {"email": HOSTILE_EMAIL, "password": "a-password"}) for _ in range(3)
        )
    )
    attack.start()
    slowest_read = 0.0
    reads = 0
    while attack.is_alive() or reads == 0:
        started = time.monotonic()
        assert gateway.get("/rest/v1/products?select=id&limit=1").status == 200
        slowest_read, reads = max(slowest_read, time.monotonic() - started), reads + 1
    attack.join()
    assert [(a.status, a.body["code"]) for a in answers] == [(400, "validation_failed")] * 3
    assert answers[0].headers["X-Supabase-Api-Version"] == "2024-01-01"
    # Loose on purpose (a read takes milliseconds): before the fix, reads waited seconds.
    assert slowest_read < 1.0, f"a read waited {slowest_read:.2f} s behind the hostile requests"


# Well-formed, 64 KiB: not hostile in shape, only in size.
OVERSIZED = {"email": "big@example.com", "password": "a-password", "data": {"x": "y" * 65536}}


@pytest.mark.parametrize("path", [SIGNUP, PASSWORD_GRANT, "/auth/v1/logout"])
def test_an_oversized_body_is_refused_before_it_is_read(gateway, admin, path):
    answer = gateway.post(path, OVERSIZED)
    assert (answer.status, answer.body["code"]) == (413, "validation_failed")
    assert "16384 bytes" in answer.body["msg"]
    assert answer.headers["X-Supabase-Api-Version"] == "2024-01-01"
    assert admin.scalar("select count(*) from auth.users where email = 'big@example.com'") == 0


def test_a_chunked_body_is_cut_off_at_the_same_limit(local_stack, admin):
    """No Content-Length to check up front: the gateway stops reading at the limit."""
    body = json.dumps(OVERSIZED).encode()
    chunks = (body[i : i + 4096] for i in range(0, len(body), 4096))
    connection = http.client.HTTPConnection("127.0.0.1", local_stack.gateway_port, timeout=30)
    try:
        connection.request(
            "POST",
            SIGNUP,
            body=chunks,
            headers={"apikey": local_stack.anon_key, "Content-Type": "application/json"},
            encode_chunked=True,
        )
        response = connection.getresponse()
        status, answer = response.status, json.loads(response.read())
    finally:
        connection.close()
    assert (status, answer["code"]) == (413, "validation_failed")
    assert admin.scalar("select count(*) from auth.users where email = 'big@example.com'") == 0


def test_a_body_nested_thousands_deep_is_bad_json(gateway):
    answer = gateway.post(SIGNUP, b'{"data": ' + b"[" * 5000 + b"]" * 5000 + b"}")
    assert (answer.status, answer.body["code"]) == (400, "bad_json")


@pytest.mark.parametrize(
    "email",
    [
        "a@example",
        "a@.example.com",
        "a@example..com",
        "a@example.com.",
        "a@b@example.com",
        "a b@example.com",
        "@example.com",
        "x" * 65 + "@example.com",
        "a@" + "b" * 315 + ".com",  # 321 characters
    ],
)
def test_malformed_emails_are_refused(gateway, email):
    answer = gateway.post(SIGNUP, {"email": email, "password": "a-password"})
    assert (answer.status, answer.body["code"]) == (400, "validation_failed"), email


def test_ordinary_emails_still_sign_up(gateway):
    unique = uuid.uuid4().hex[:8]
    for email in (f"first.last+{unique}@sub.example.co.uk", f"o'brien.{unique}@example.ie"):
        answer = gateway.post(SIGNUP, {"email": email, "password": "a-password"})
        assert (answer.status, answer.body["user"]["email"]) == (200, email)
