"""The bench's output: a text table on stdout, and bench.md, bench.json and bench.png on disk."""

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
        "| scenario | implementation | req/s | p50 ms | p99 ms | non-2xx | note |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['scenario']} | {r['implementation']} | {r['rate']:.0f} | {r['p50_ms']:.1f}"
            f" | {r['p99_ms']:.1f} | {r['non_2xx']} | {r.get('note', '')} |"
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
            c = by_command[command]
            lines.append(
                f"| {command} | {implementation} | {c['exchanges']}"
                f" | {c['exchanges_while_locked']} | {c['statements']} |"
            )
    return lines


def targets(report: dict) -> list[str]:
    """Issue 6's targets for ours (pg8000), each with the figure this run measured.

    The cold-start targets are judged on the packaged Lambda path; functions-framework's figures
    are printed beside them for comparison with the baseline.
    """
    load = {(r["scenario"], r["implementation"]): r for r in report.get("load", [])}
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
    return [
        f"- {'met' if ok else 'NOT met'}: {what} (measured {figure})" for what, figure, ok in checks
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
    if lines := targets(report):
        sections += [
            "## Issue 6 targets (ours, pg8000; judge them on a quiet machine)",
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
    return text


def chart(path: Path, load: list[dict], cold: list[dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scenarios = list(dict.fromkeys(r["scenario"] for r in load))
    panels = 3 if cold else 2
    figure, axes = plt.subplots(1, panels, figsize=(6 * panels, 5.5))
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
        axis.set_xticks(range(len(scenarios)), scenarios)
    axes[0].legend(fontsize=7)
    axes[1].legend(fontsize=7, ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.08))
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
