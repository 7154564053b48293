"""What `make bench` says of the bucket curve: the 3x verdict, the delay it was measured at,
and how busy the machine's cores were, so a CPU-bound figure reads as one."""

from __future__ import annotations

import time

from bench import report, stack


def _row(scenario: str, implementation: str, rate: float, buckets: int, delay_ms: float, busy):
    row = {
        "scenario": scenario,
        "implementation": implementation,
        "rate": rate,
        "p50_ms": 10.0,
        "p99_ms": 90.0,
        "non_2xx": 0,
        "buckets": buckets,
        "delay_ms": delay_ms,
        "proxy_cpu": 0.05,
    }
    if busy is not None:
        row["cores_busy"] = busy
    return row


def _curve(delay_ms: float, one: float, eight: float, busy=0.9) -> dict:
    ms = f"{delay_ms:g} ms"
    return {
        "load": [
            _row(f"hot, {ms}", "ours", one, 1, delay_ms, 0.5),
            _row(f"hot, {ms}", "ceiling", 2 * one, 1, delay_ms, 0.4),
            _row(f"hot, {ms}, 8 buckets", "ours", eight, 8, delay_ms, busy),
        ]
    }


def _ratio_check(checks):
    (check,) = [c for c in checks if "N = 8 >= 3x N = 1" in c[0]]
    return check


def test_the_ratio_is_judged_at_1_ms_and_says_how_busy_the_cores_were():
    what, figure, ok = _ratio_check(report.drop_targets(_curve(1, 200, 500, busy=0.93), 0))
    assert (what, ok) == ("hot with 1 ms per exchange: N = 8 >= 3x N = 1", False)
    assert figure == "500 / 200 = 2.50x, the cores 93% busy at N = 8"
    assert _ratio_check(report.drop_targets(_curve(1, 200, 600), 0))[2] is True


def test_another_delay_is_named_and_not_taken_for_the_target():
    what, figure, ok = _ratio_check(report.drop_targets(_curve(3, 100, 310), 0))
    assert what == "hot with 3 ms per exchange: N = 8 >= 3x N = 1 (the target is for 1 ms)"
    assert ok is True and figure.startswith("310 / 100 = 3.10x")


def test_a_run_without_the_cpu_reading_still_gets_its_verdict():
    what, figure, ok = _ratio_check(report.drop_targets(_curve(1, 200, 300, busy=None), 0))
    assert figure == "300 / 200 = 1.50x" and ok is False


def test_the_buckets_table_shows_the_delay_and_the_cores_busy():
    data = _curve(3, 100, 280, busy=0.77)
    table = report.buckets_table(data)
    assert table[0].endswith("| cores busy (ours, pgbench) |")
    assert table[2].endswith("| 0.05, 0.05 | 50%, 40% |")  # N = 1: ours, then pgbench
    assert table[3].endswith("| 0.05 | 77% |")  # N = 8: ours alone
    assert report.curve_delay(report.curve(data)) == 3


def test_machine_cpu_ticks_count_busy_time_when_the_cores_work():
    before = stack.machine_cpu_ticks()
    assert before is not None and 0 <= before[0] <= before[1]
    deadline = time.monotonic() + 0.3
    while time.monotonic() < deadline:  # this process keeps one core busy meanwhile
        pass
    after = stack.machine_cpu_ticks()
    assert after[1] > before[1] and after[0] > before[0]
