"""The local stand-in for CloudWatch: figures kept from the functions' EMF log lines."""

from __future__ import annotations

import json
import time
import urllib.request
import uuid

from devstack import devkeys, ops
from shared import metrics
from shared.entrypoints import emf


class Clock:
    def __init__(self):
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def line(function: str, status: int, code: str | None, duration_ms: float, **figures) -> bytes:
    """A log line as the functions write it (the same code builds it)."""
    metrics.begin()
    for name, value in figures.items():
        metrics.add(name, value)
    fields = emf.log_fields(function, "ShoppingSystem", status, code, duration_ms)
    fields["_aws"] = fields.pop("aws")
    return json.dumps({"message": f"POST {function} -> {status}", **fields}).encode() + b"\n"


def test_it_keeps_the_last_minute_and_sums_since_the_start():
    clock = Clock()
    figures = ops.Figures(clock)
    for duration in range(1, 101):  # 100 requests over the last 50 seconds
        clock.now += 0.5
        figures.feed(line("add_item", 200, None, duration, lock_wait_ms=2, units_taken=1))
    figures.feed(line("add_item", 409, "insufficient_stock", 5, lock_wait_ms=40))
    figures.feed(line("add_item", 503, "busy_try_again", 2000, lock_wait_ms=1999, retries=1))
    add = figures.snapshot()["functions"]["add_item"]
    assert add["requests"] == 102 and add["requests_per_second"] == 1.7
    assert (add["p50_ms"], add["p99_ms"]) == (50, 100)  # nearest rank
    assert add["lock_wait_p99_ms"] == 40
    assert add["outcomes"] == {"200 ok": 100, "409 insufficient_stock": 1, "503 busy_try_again": 1}
    assert add["shares"] == {
        "server_errors": round(1 / 102, 4),
        "busy": round(1 / 102, 4),
        "throttled": 0,
    }
    assert (add["window"]["units_taken"], add["window"]["retries"]) == (100, 1)
    assert sum(add["per_second"]) == 102 and add["per_second"][-1] == 4  # 2 + the 2 refusals
    clock.now += 45  # the first requests leave the window; the totals keep them
    add = figures.snapshot()["functions"]["add_item"]
    assert add["requests"] == 31 + 2 and add["totals"]["invocations"] == 102  # from t=35 s
    assert add["totals"]["units_taken"] == 100


def test_jobs_keep_their_latest_figures():
    clock = Clock()
    figures = ops.Figures(clock)
    figures.feed(line("relay_outbox", 200, None, 3, outbox_pending=4, outbox_oldest_pending_s=75))
    clock.now += 60
    figures.feed(line("relay_outbox", 200, None, 3, outbox_pending=0, outbox_oldest_pending_s=0))
    clock.now += 7
    relay = figures.snapshot()["functions"]["relay_outbox"]
    assert relay["last"]["outbox_pending"] == 0 and relay["seconds_since_last"] == 7
    assert relay["totals"]["invocations"] == 2


def test_anything_but_an_emf_line_is_ignored():
    figures = ops.Figures()
    for noise in [
        b"[2026-01-01 00:00:00 +0000] [1] [INFO] Booting worker with pid: 7\n",
        b'{"message": "a JSON line without figures"}\n',
        b'{"_aws": {"CloudWatchMetrics": []}, "function": "add_item"}\n',
        b'{"_aws": broken\n',
        b'not bytes, but a "_aws" mention',
    ]:
        figures.feed(noise)
    assert figures.snapshot()["functions"] == {}


def test_the_stack_feeds_its_functions_lines_and_still_logs_them(
    local_stack, signing_key, admin, new_user
):
    user, _ = new_user()
    token = devkeys.mint_token(signing_key, user, iss=f"{local_stack.url}/auth/v1")
    product = admin.create_product(stock=3)
    cid = f"ops-feed-{uuid.uuid4().hex}"  # the log files outlive a test session
    before = _invocations(local_stack.ops.snapshot(), "add_item")
    request = urllib.request.Request(
        f"{local_stack.url}/functions/v1/add-item",
        data=json.dumps({"product_id": product}).encode(),
        headers={"Authorization": f"Bearer {token}", "X-Correlation-ID": cid},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
    deadline = time.monotonic() + 10
    while _invocations(local_stack.ops.snapshot(), "add_item") == before:
        assert time.monotonic() < deadline, "the figures never arrived"
        time.sleep(0.05)
    assert _invocations(local_stack.ops.snapshot(), "add_item") == before + 1
    # Passed on unchanged: the line is in the function's log file as the function wrote it.
    logged = [
        json.loads(text)
        for text in (local_stack.log_dir / "add_item.log").read_text().splitlines()
        if cid in text
    ]
    assert [entry["message"] for entry in logged if "_aws" in entry] == ["POST add_item -> 200"]
    with urllib.request.urlopen(f"{local_stack.url}/ops/figures.json", timeout=30) as response:
        served = json.loads(response.read())
    assert served["functions"]["add_item"]["totals"]["units_taken"] >= 1


def _invocations(snapshot: dict, function: str) -> int:
    return snapshot["functions"].get(function, {}).get("totals", {}).get("invocations", 0)
