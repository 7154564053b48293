"""The bench's output: a text table on stdout, and bench.md, bench.json, bench.png (every
scenario) and bench_buckets.png (throughput against N) on disk."""

from __future__ import annotations

import json
from pathlib import Path

COLORS = {
    "ours": "#2b6cb0",
    "baseline": "#c05621",
    "ceiling": "#718096",
}


def load_table(rows: list[dict]) -> list[str]:
    lines = [
        "| scenario | implementation | req/s | p50 ms | p99 ms | non-2xx | load | note |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        note = r.get("note", "")
        if r.get("wal_bytes_per_add"):
            note = "; ".join(
                filter(None, (note, f"WAL {r['wal_bytes_per_add'] / 1000:.1f} kB/add"))
            )
        if r.get("db_cpu_ms_per_add"):
            cpu = f"DB CPU {r['db_cpu_ms_per_add']:.2f} ms/add"
            note = "; ".join(filter(None, (note, cpu)))
        if "proxy_cpu" in r:
            note = "; ".join(filter(None, (note, f"proxy CPU {r['proxy_cpu']:.2f} s/s")))
        if "cores_busy" in r:
            note = "; ".join(filter(None, (note, f"cores busy {100 * r['cores_busy']:.0f}%")))
        load = f"{r['load']:.1f}" if "load" in r else ""
        lines.append(
            f"| {r['scenario']} | {r['implementation']} | {r['rate']:.0f} | {r['p50_ms']:.1f}"
            f" | {r['p99_ms']:.1f} | {r['non_2xx']} | {load} | {note} |"
        )
    return lines


def cold_table(rows: list[dict]) -> list[str]:
    lines = [
        "| function | implementation | spawn to first 200 s | import s | import CPU s"
        " | heaviest imports (own seconds) |",
        "|---|---|---:|---:|---:|---|",
    ]
    for r in rows:
        heavy = ", ".join(f"{name} {seconds:.2f}" for name, seconds in r["heaviest"])
        lines.append(
            f"| {r['function']} | {r['implementation']} | {r['first_200_s']:.2f}"
            f" | {r['import_s']:.2f} | {r['import_cpu_s']:.2f} | {heavy} |"
        )
    return lines


def lambda_cold_table(rows: list[dict]) -> list[str]:
    lines = [
        "| function | import s | first call s | spawn to first answer s | modules"
        " | heaviest imports (own seconds) |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        heavy = ", ".join(f"{name} {seconds:.2f}" for name, seconds in r["heaviest"])
        lines.append(
            f"| {r['function']} | {r['import_ms'] / 1000:.2f} | {r['first_call_ms'] / 1000:.2f}"
            f" | {r['process_ms'] / 1000:.2f} | {r['modules']} | {heavy} |"
        )
    return lines


def exchanges_table(counts: dict[str, dict[str, dict]]) -> list[str]:
    lines = [
        "| command | implementation | exchanges | while a row lock is held | statements |",
        "|---|---|---:|---:|---:|",
    ]
    for command in next(iter(counts.values())):
        for implementation, by_command in counts.items():
            if command not in by_command:
                continue
            c = by_command[command]
            lines.append(
                f"| {command} | {implementation} | {c['exchanges']}"
                f" | {c['exchanges_while_locked']} | {c['statements']} |"
            )
    return lines


# Spread on main before issue 10, quiet machine (docs/performance.md, 2026-11-26 11:56 UTC):
# issue 10 asks for spread within 10% of it.
SPREAD_BEFORE_BUCKETS = 909


def _load(report: dict) -> dict[tuple[str, str], dict]:
    return {(r["scenario"], r["implementation"]): r for r in report.get("load", [])}


def curve(report: dict) -> list[dict]:
    """The bucket curve with the delay: per N, ours and pgbench (either may be missing)."""
    by_n: dict[int, dict] = {}
    for r in report.get("load", []):
        if r.get("delay_ms") and "buckets" in r and r["implementation"] in ("ours", "ceiling"):
            by_n.setdefault(r["buckets"], {})[r["implementation"]] = r
    return [{"buckets": n, **by_n[n]} for n in sorted(by_n)]


def curve_delay(points: list[dict]) -> float:
    """The curve's delay per exchange in ms (BENCH_HOP_MS; 1 unless set)."""
    rows = [r for p in points for key, r in p.items() if key != "buckets"]
    return rows[0]["delay_ms"] if rows else 1.0


def first_round_targets(report: dict) -> list[tuple[str, str, bool]]:
    """Issue 6's targets for ours (pg8000), each with the figure this run measured.

    The cold-start targets are judged on the packaged Lambda path; functions-framework's figures
    are printed beside them for comparison with the baseline.
    """
    load = _load(report)
    checks = []
    hot, spread = load.get(("hot", "ours")), load.get(("spread", "ours"))
    ceiling = load.get(("hot", "ceiling"))
    if hot:
        checks.append(("hot >= 250 req/s", f"{hot['rate']:.0f}", hot["rate"] >= 250))
        checks.append(("hot p99 < 250 ms", f"{hot['p99_ms']:.0f}", hot["p99_ms"] < 250))
    if spread:
        checks.append(("spread >= 300 req/s", f"{spread['rate']:.0f}", spread["rate"] >= 300))
        checks.append(("spread p99 < 250 ms", f"{spread['p99_ms']:.0f}", spread["p99_ms"] < 250))
    if hot and ceiling:
        share = 100 * hot["rate"] / ceiling["rate"]
        checks.append(("hot >= 35% of the pgbench ceiling", f"{share:.0f}%", share >= 35))
    for r in report.get("lambda_cold", []):
        name = r["function"]
        import_s, first_s = r["import_ms"] / 1000, r["process_ms"] / 1000
        checks.append(
            (f"{name} import <= 1.0 s (Lambda package)", f"{import_s:.2f}", import_s <= 1)
        )
        checks.append(
            (
                f"{name} spawn to first answer <= 1.3 s (Lambda package)",
                f"{first_s:.2f}",
                first_s <= 1.3,
            )
        )
    exchanges = report.get("exchanges", {}).get("ours", {})
    if exchanges:
        one, three = exchanges["checkout (1 line)"], exchanges["checkout (3 lines)"]
        same = one["statements"] == three["statements"]
        checks.append(("checkout statements independent of lines", str(same), same))
        for command, c in exchanges.items():
            ok = c["exchanges"] <= 5 and c["exchanges_while_locked"] <= 2
            figure = f"{c['exchanges']}/{c['exchanges_while_locked']}"
            checks.append((f"{command}: <= 5 exchanges, <= 2 while locked", figure, ok))
    return checks


def drop_targets(report: dict, failures: int) -> list[tuple[str, str, bool]]:
    """Issue 10's targets, side by side in one run."""
    load = _load(report)
    checks = []
    points = {p["buckets"]: p for p in curve(report)}
    one, eight = points.get(1, {}).get("ours"), points.get(8, {}).get("ours")
    if one and eight:
        ratio = eight["rate"] / one["rate"]
        figure = f"{eight['rate']:.0f} / {one['rate']:.0f} = {ratio:.2f}x"
        if "cores_busy" in eight:  # near 100%: bound by this machine's CPU, not by the locks
            figure += f", the cores {100 * eight['cores_busy']:.0f}% busy at N = 8"
        delay = eight["delay_ms"]
        what = f"hot with {delay:g} ms per exchange: N = 8 >= 3x N = 1"
        if delay != 1:  # BENCH_HOP_MS: a figure beside the target, not the target
            what += " (the target is for 1 ms)"
        checks.append((what, figure, ratio >= 3))
    loop_one, loop_eight = load.get(("hot", "ours")), load.get(("hot, 8 buckets", "ours"))
    if loop_one and loop_eight:
        figure = f"{loop_eight['rate']:.0f} vs {loop_one['rate']:.0f} req/s"
        ok = loop_eight["rate"] >= loop_one["rate"]
        checks.append(("loopback hot: N = 8 no slower than N = 1", figure, ok))
    spread = load.get(("spread", "ours"))
    if spread:
        share = 100 * spread["rate"] / SPREAD_BEFORE_BUCKETS
        figure = f"{spread['rate']:.0f} req/s, {share:.0f}% of {SPREAD_BEFORE_BUCKETS}"
        checks.append(("spread within 10% of before buckets (>= 90%)", figure, share >= 90))
    checked = sum(1 for r in report.get("load", []) if "CHECK FAILED" not in r.get("note", ""))
    figure = f"{failures} check(s) failed; {checked} load rows balanced"
    checks.append(("stock taken == units carted, every scenario", figure, failures == 0))
    sold = report.get("sold_out")
    if sold:
        figure = (
            f"{sold['succeeded']} succeeded of {sold['requests']}, stock {sold['stock_after']},"
            f" {sold['carted']} in carts"
        )
        checks.append(
            ("sold out exact (500 x 200, rest 409, no 5xx)", figure, not sold["failed_checks"])
        )
    sweep = report.get("drop_sweep")
    if sweep:
        figure = f"{sweep['released_carts']} carts in {sweep['seconds']:.1f} s"
        checks.append(
            (
                f"sweep: {sweep['carts']} expired carts released by one run",
                figure,
                sweep["released_all_in_one_run"],
            )
        )
    return checks


def _lines(checks: list[tuple[str, str, bool]]) -> list[str]:
    return [
        f"- {'met' if ok else 'NOT met'}: {what} (measured {figure})" for what, figure, ok in checks
    ]


def buckets_table(report: dict) -> list[str]:
    points = curve(report)
    if not points:
        return []
    base = points[0]
    lines = [
        "| N buckets | ours req/s | x N = 1 | ours p99 ms | pgbench tx/s | x N = 1"
        " | ours / pgbench | proxy CPU s/s (ours, pgbench) | cores busy (ours, pgbench) |",
        "|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]

    def times(p, key):
        return f"{p[key]['rate'] / base[key]['rate']:.2f}" if key in p and key in base else ""

    for p in points:
        ours, bench = p.get("ours"), p.get("ceiling")
        share = f"{100 * ours['rate'] / bench['rate']:.0f}%" if ours and bench else ""
        cpu = ", ".join(f"{r['proxy_cpu']:.2f}" for r in (ours, bench) if r and "proxy_cpu" in r)
        busy = ", ".join(
            f"{100 * r['cores_busy']:.0f}%" for r in (ours, bench) if r and "cores_busy" in r
        )
        lines.append(
            f"| {p['buckets']} | {ours['rate'] if ours else 0:.0f} | {times(p, 'ours')}"
            f" | {ours['p99_ms'] if ours else 0:.0f} | {bench['rate'] if bench else 0:.0f}"
            f" | {times(p, 'ceiling')} | {share} | {cpu} | {busy} |"
        )
    load = _load(report)
    loop_one, loop_eight = load.get(("hot", "ours")), load.get(("hot, 8 buckets", "ours"))
    if loop_one and loop_eight:
        lines += [
            "",
            f"Loopback (no delay), ours: N = 1 {loop_one['rate']:.0f} req/s (p99"
            f" {loop_one['p99_ms']:.0f} ms), N = 8 {loop_eight['rate']:.0f} req/s (p99"
            f" {loop_eight['p99_ms']:.0f} ms): {loop_eight['rate'] / loop_one['rate']:.2f}x.",
        ]
    return lines


def sold_out_lines(sold: dict) -> list[str]:
    statuses = ", ".join(f"{k}: {n}" for k, n in sorted(sold["statuses"].items()))
    verdict = (
        "all checks held"
        if not sold["failed_checks"]
        else ("CHECK FAILED: " + ", ".join(sold["failed_checks"]))
    )
    return [
        f"{sold['units']} units in {sold['buckets']} buckets, {sold['clients']} clients adding 1"
        f" each for random users until told insufficient_stock: {sold['requests']} adds in"
        f" {sold['seconds']:.1f} s (p50 {sold['p50_ms']:.1f} ms, p99 {sold['p99_ms']:.1f} ms);"
        f" answers {statuses}; stock after {sold['stock_after']}, {sold['carted']} units put in"
        f" carts: {verdict}.",
    ]


def sweep_lines(sweep: dict) -> list[str]:
    during = ", ".join(f"{k}: {n}" for k, n in sorted(sweep["during_statuses"].items()))
    return [
        "| expired carts | buckets | released | by one run in s | finished | adds/s before"
        " | adds/s during | during / before | conserved | load |",
        "|---:|---:|---:|---:|---|---:|---:|---:|---|---:|",
        f"| {sweep['carts']} | {sweep['buckets']} | {sweep['released_carts']}"
        f" | {sweep['seconds']:.1f} | {sweep['finished']} | {sweep['adds_per_s_before']:.0f}"
        f" | {sweep['adds_per_s_during']:.0f}"
        f" | {100 * sweep['adds_per_s_during'] / max(sweep['adds_per_s_before'], 1e-9):.0f}%"
        f" | {'yes' if sweep['conserved'] else 'NO'} ({sweep['units_held']} of"
        f" {sweep['units_total']}) | {sweep['load']:.1f} |",
        "",
        f"Answers to the adds during the sweep: {during}.",
    ]


def write(results_dir: Path, header: list[str], report: dict) -> str:
    """Write bench.md/.json/.png; returns the markdown, which is also what gets printed."""
    sections = [*header, ""]
    if report.get("load"):
        sections += ["## Load", "", *load_table(report["load"]), ""]
    if report.get("exchanges"):
        sections += ["## Exchanges per command", "", *exchanges_table(report["exchanges"]), ""]
    if report.get("cold"):
        sections += ["## Cold start (functions-framework)", "", *cold_table(report["cold"]), ""]
    if report.get("lambda_cold"):
        sections += [
            "## Cold start, packaged Lambda path (median of fresh processes)",
            "",
            *lambda_cold_table(report["lambda_cold"]),
            "",
        ]
    if lines := buckets_table(report):
        delay = curve_delay(curve(report))
        sections += [
            f"## Stock in buckets, {delay:g} ms per exchange (hot, product 1 in N buckets)",
            "",
        ]
        sections += [*lines, ""]
    if report.get("sold_out"):
        sections += ["## Sold out", "", *sold_out_lines(report["sold_out"]), ""]
    if report.get("drop_sweep"):
        sections += ["## Sweep at drop scale", "", *sweep_lines(report["drop_sweep"]), ""]
    failures = sum(1 for note in report.get("notes", []) if note.startswith("CHECK FAILED"))
    if lines := _lines(drop_targets(report, failures)):
        sections += ["## Issue 10 targets (judge them on a quiet machine)", "", *lines, ""]
    if lines := _lines(first_round_targets(report)):
        sections += [
            "## Issue 6 targets, kept (ours, pg8000; judge them on a quiet machine)",
            "",
            *lines,
            "",
        ]
    sections += report.get("notes", [])
    text = "\n".join(sections) + "\n"
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / "bench.md").write_text(text)
    (results_dir / "bench.json").write_text(json.dumps(report, indent=2, default=str))
    if report.get("load"):
        chart(results_dir / "bench.png", report["load"], report.get("cold", []))
    if curve(report):
        buckets_chart(results_dir / "bench_buckets.png", report)
    return text


def chart(path: Path, load: list[dict], cold: list[dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scenarios = list(dict.fromkeys(r["scenario"] for r in load))
    panels = 3 if cold else 2
    wide = max(6.0, 0.55 * len(scenarios))  # the load panels grow with the scenarios
    figure, axes = plt.subplots(
        1,
        panels,
        figsize=(2 * wide + (6 if cold else 0), 6.5),
        gridspec_kw={"width_ratios": [wide, wide] + ([6] if cold else [])},
    )
    present = [i for i in COLORS if any(r["implementation"] == i for r in load)]
    width = 0.8 / len(present)
    for i, implementation in enumerate(present):
        rows = {r["scenario"]: r for r in load if r["implementation"] == implementation}
        xs = [s + (i - (len(present) - 1) / 2) * width for s in range(len(scenarios))]
        rates = [rows[s]["rate"] if s in rows else 0 for s in scenarios]
        bars = axes[0].bar(xs, rates, width, label=implementation, color=COLORS[implementation])
        axes[0].bar_label(bars, fmt="%.0f", fontsize=7)
        for offset, key, alpha in ((-width / 4, "p50_ms", 1.0), (width / 4, "p99_ms", 0.45)):
            axes[1].bar(
                [x + offset for x in xs],
                [rows[s][key] if s in rows else 0 for s in scenarios],
                width / 2,
                color=COLORS[implementation],
                alpha=alpha,
                label=f"{implementation} {key[:3]}",
            )
    axes[0].set_title("throughput (requests/s; ceiling: transactions/s)")
    axes[1].set_title("latency ms (solid p50, light p99)")
    axes[0].set_yscale("log")
    axes[1].set_yscale("log")
    for axis in axes[:2]:
        axis.set_xticks(range(len(scenarios)), scenarios, rotation=35, ha="right", fontsize=7)
    axes[0].legend(fontsize=7)
    axes[1].legend(fontsize=7, ncol=3, loc="upper right")
    if cold:
        functions = list(dict.fromkeys(r["function"] for r in cold))
        for i, implementation in enumerate(("ours", "baseline")):
            rows = {r["function"]: r for r in cold if r["implementation"] == implementation}
            xs = [f + (i - 0.5) * 0.4 for f in range(len(functions))]
            axes[2].bar(
                xs,
                [rows[f]["first_200_s"] for f in functions],
                0.4,
                color=COLORS[implementation],
                alpha=0.45,
                label=f"{implementation} spawn→200",
            )
            axes[2].bar(
                xs,
                [rows[f]["import_s"] for f in functions],
                0.4,
                color=COLORS[implementation],
                label=f"{implementation} import",
            )
        axes[2].set_xticks(range(len(functions)), functions)
        axes[2].set_title("cold start s (median)")
        axes[2].legend(fontsize=7)
    figure.suptitle("make bench: 2 cores shared by load generator, servers and PostgreSQL")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def buckets_chart(path: Path, report: dict) -> None:
    """Throughput against N with the delay per exchange: ours and pgbench, each beside the model's
    straight line through its N = 1 figure (N buckets, N times the one-row ceiling)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = curve(report)
    delay = curve_delay(points)
    figure, axis = plt.subplots(figsize=(7.5, 5.5))
    for key, label in (("ours", "ours (HTTP, req/s)"), ("ceiling", "pgbench, same SQL (tx/s)")):
        series = [(p["buckets"], p[key]["rate"]) for p in points if key in p]
        if not series:
            continue
        ns, rates = zip(*series, strict=True)
        axis.plot(ns, rates, "o-", color=COLORS[key], label=f"{label}, {delay:g} ms per exchange")
        for n, rate in series:
            axis.annotate(
                f"{rate:.0f}", (n, rate), textcoords="offset points", xytext=(4, 6), fontsize=7
            )
        if ns[0] == 1:
            axis.plot(
                ns,
                [rates[0] * n for n in ns],
                "--",
                color=COLORS[key],
                alpha=0.4,
                label=f"N x {label.split(' (')[0]} at N = 1 (model)",
            )
    load = _load(report)
    loopback = [
        (n, load[(s, "ours")]["rate"])
        for n, s in ((1, "hot"), (8, "hot, 8 buckets"))
        if (s, "ours") in load
    ]
    if loopback:
        ns, rates = zip(*loopback, strict=True)
        axis.plot(ns, rates, "s", color=COLORS["ours"], alpha=0.5, label="ours, loopback")
    spread = load.get(("spread", "ours"))
    if spread:  # no shared row at all: what the functions' CPU allows on this machine
        axis.axhline(
            spread["rate"],
            color=COLORS["ours"],
            linestyle=":",
            alpha=0.6,
            label=f"ours, spread on loopback ({spread['rate']:.0f} req/s, no shared row)",
        )
    axis.set_xscale("log", base=2)
    ns = [p["buckets"] for p in points]
    axis.set_xticks(ns, [str(n) for n in ns])
    top = max(
        [r for _, r in loopback]
        + [p[k]["rate"] for p in points for k in ("ours", "ceiling") if k in p]
    )
    axis.set_ylim(0, top * 1.25)
    axis.set_xlabel("N buckets (product 1)")
    axis.set_ylabel("adds per second")
    axis.set_title(f"hot: throughput against N, database {delay:g} ms away (bench/delay_proxy.c)")
    axis.legend(fontsize=7)
    axis.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
