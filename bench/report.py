#!/usr/bin/env python3
"""Turn the shared harness's result files into pod-server's target table (Markdown, on stdout).

    bench/report.py RESULTS_DIR_OR_JSON_FILES... [--ours ours] [--css css-file,css-mem]
                    [--ceiling flask-ceiling]

Reads the JSON files ``solid_bench.py`` writes (one per server and round; see summarize.py in the
harness for their shape), takes the median of every figure over the rounds of each server, and
checks the targets of the performance issue against each CSS configuration:

- reads (GET Turtle, GET as JSON-LD): at least 5x CSS's requests/s;
- writes (PUT, N3 PATCH, POST): at least 3x CSS's requests/s;
- small GETs: within 3x of the bare Flask + gunicorn ceiling (ceiling req/s / ours <= 3);
- listing a container of 1,000 and of 10,000 children: at least 20x faster than CSS (p50 latency;
  the harness measures these one request at a time);
- peak memory (VmHWM summed over the server's process tree): at most half of CSS's.

Standard library only, so it runs with any Python 3.9+.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Run = dict[str, Any]


@dataclass(frozen=True)
class Target:
    group: str
    scenario: str
    title: str
    goal: float
    kind: str  # "rps" (ours / theirs >= goal), "latency" (theirs / ours >= goal), "ceiling", "memory"


TARGETS = [
    Target("reads", "get_turtle", "GET small Turtle", 5, "rps"),
    Target("reads", "get_jsonld", "GET as JSON-LD", 5, "rps"),
    # Issue 4: a DPoP-bound token and a fresh proof (signed before the timed phase) per request.
    Target("reads", "auth_get", "GET with DPoP", 5, "rps"),
    Target("writes", "put", "PUT", 3, "rps"),
    Target("writes", "patch", "N3 PATCH", 3, "rps"),
    Target("writes", "post", "POST", 3, "rps"),
    Target("containers", "get_container_1000", "GET container, 1,000 children", 20, "latency"),
    Target("containers", "get_container_10000", "GET container, 10,000 children", 20, "latency"),
]
CEILING_TARGETS = [
    Target("ceiling", "get_turtle", "GET small Turtle", 3, "ceiling"),
    Target("ceiling", "get_jsonld", "GET as JSON-LD", 3, "ceiling"),
]
INFO_SCENARIOS = ["get_turtle", "get_jsonld", "auth_get", "put", "patch", "post", "get_container_10"]


def load(paths: Iterable[str]) -> dict[str, list[Run]]:
    """Result files by label, in the order the labels first ran."""
    files: list[Path] = []
    for p in map(Path, paths):
        files.extend(sorted(p.glob("*.json")) if p.is_dir() else [p])
    runs: list[Run] = []
    for f in files:
        try:
            data = json.loads(f.read_text())
        except (OSError, ValueError) as exc:
            print(f"skipping {f}: {exc}", file=sys.stderr)
            continue
        if isinstance(data, dict) and "scenarios" in data and "label" in data:
            runs.append(data)
    runs.sort(key=lambda r: str(r.get("started_at", "")))
    by_label: dict[str, list[Run]] = {}
    for r in runs:
        by_label.setdefault(str(r["label"]), []).append(r)
    return by_label


def values(runs: list[Run], scenario: str, key: str) -> list[float]:
    out = []
    for r in runs:
        row = r["scenarios"].get(scenario) or {}
        if "error" in row or "skipped" in row or row.get("warning"):
            continue
        v = row.get(key)
        if isinstance(v, (int, float)):
            out.append(float(v))
    return out


def median(vals: list[float]) -> float | None:
    return statistics.median(vals) if vals else None


def peak_memory(runs: list[Run]) -> float | None:
    """Highest VmHWM sum over the process tree across the rounds (the rounds with the biggest
    container set it; every server ran the same rounds)."""
    vals = [float((r.get("memory") or {}).get("vmhwm_tree_sum_mb") or 0) for r in runs]
    vals = [v for v in vals if v > 0]
    return max(vals) if vals else None


def fmt(v: float | None, nd: int = 1) -> str:
    if v is None:
        return "-"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.{nd}f}"


def spread(vals: list[float], nd: int = 1) -> str:
    if not vals:
        return "-"
    m = fmt(statistics.median(vals), nd)
    return m if len(vals) == 1 else f"{m} [{fmt(min(vals), nd)}-{fmt(max(vals), nd)}]"


def ratio_cell(r: float | None, goal: float) -> tuple[str, bool | None]:
    if r is None:
        return "-", None
    return f"{r:.2f}x", r >= goal


def verdict(results: list[bool | None]) -> str:
    known = [x for x in results if x is not None]
    if not known:
        return "no data"
    if all(known):
        return "**met**" + ("" if len(known) == len(results) else " (partial data)")
    if not any(known):
        return "**missed**"
    return "**missed** (met against one CSS only)"


def report(by_label: dict[str, list[Run]], ours: str, css: list[str], ceiling: str) -> str:
    out: list[str] = []
    p: Callable[[str], None] = out.append
    if ours not in by_label:
        raise SystemExit(f"no results labelled {ours!r} (labels: {', '.join(by_label) or 'none'})")
    css = [c for c in css if c in by_label]
    mine = by_label[ours]
    first = min(str(r.get("started_at", "")) for rs in by_label.values() for r in rs)
    p(f"Results from {first} (UTC); rounds: " + ", ".join(f"{k} x{len(v)}" for k, v in by_label.items()))
    o = mine[0].get("options", {})
    p(
        f"Load: concurrency {o.get('concurrency')}, {o.get('duration')} s per scenario, generator "
        f"{o.get('tool')}; containers of 1,000+ children are measured one request at a time. "
        "Every figure is the median over the rounds ([min-max] when there are several).\n"
    )

    # ---- throughput / latency targets against CSS
    p("### Targets against CSS 7\n")
    cpu_head = "CSS CPU per request ÷ ours (" + " / ".join(css) + ")"
    head = (
        ["target", "scenario", f"{ours}", *css]
        + [f"{ours} / {c}" for c in css]
        + ["goal", cpu_head, "verdict"]
    )
    p("| " + " | ".join(head) + " |")
    p("|" + "---|" * len(head))
    met: dict[str, bool | None] = {}
    for t in TARGETS:
        key = "rps" if t.kind == "rps" else "p50_ms"
        unit = "req/s" if t.kind == "rps" else "ms p50"
        ours_v = median(values(mine, t.scenario, key))
        cells = [spread(values(mine, t.scenario, key), 2 if key == "p50_ms" else 1)]
        ratios, oks = [], []
        for c in css:
            theirs = median(values(by_label[c], t.scenario, key))
            cells.append(spread(values(by_label[c], t.scenario, key), 2 if key == "p50_ms" else 1))
            r = None
            if ours_v and theirs:
                r = ours_v / theirs if t.kind == "rps" else theirs / ours_v
            txt, ok = ratio_cell(r, t.goal)
            ratios.append(txt + ("" if ok is None else (" ✓" if ok else " ✗")))
            oks.append(ok)
        word = "faster" if t.kind == "latency" else "CSS req/s"
        cpu_ours = median(values(mine, t.scenario, "server_cpu_ms_per_req"))
        cpu_cells = []
        for c in css:
            theirs = median(values(by_label[c], t.scenario, "server_cpu_ms_per_req"))
            cr = theirs / cpu_ours if cpu_ours and theirs else None
            cpu_cells.append("-" if cr is None else f"{cr:.1f}x" + (" ✓" if cr >= t.goal else " ✗"))
        v = verdict(oks)
        met[t.scenario + "/" + t.kind] = None if v == "no data" else v.startswith("**met")
        p(
            f"| {t.group}: {t.title} | {t.scenario} ({unit}) | "
            + " | ".join(cells + ratios)
            + f" | ≥{t.goal:g}x {word} | {' / '.join(cpu_cells)} | {v} |"
        )
    # memory
    ours_mem = peak_memory(mine)
    mem_cells, mem_ratios, mem_oks = [fmt(ours_mem)], [], []
    for c in css:
        theirs = peak_memory(by_label[c])
        mem_cells.append(fmt(theirs))
        r = theirs / ours_mem if ours_mem and theirs else None
        txt, ok = ratio_cell(r, 2)
        mem_ratios.append(
            (f"{ours_mem / theirs:.2f}x" if ours_mem and theirs else "-")
            + ("" if ok is None else (" ✓" if ok else " ✗"))
        )
        mem_oks.append(ok)
    v = verdict(mem_oks)
    met["memory"] = None if v == "no data" else v.startswith("**met")
    p(
        "| memory: peak RSS | VmHWM, process tree (MB) | "
        + " | ".join(mem_cells + mem_ratios)
        + f" | ≤0.5x CSS | - | {v} |"
    )
    p("")

    # ---- ceiling
    if ceiling in by_label:
        p("### Small GETs against the bare Flask + gunicorn ceiling (same workers, fixed body)\n")
        p(f"| scenario | {ours} req/s | {ceiling} req/s | {ceiling} / {ours} | goal | verdict |")
        p("|---|---|---|---|---|---|")
        for t in CEILING_TARGETS:
            a = median(values(mine, t.scenario, "rps"))
            b = median(values(by_label[ceiling], t.scenario, "rps"))
            r = b / a if a and b else None
            ok = None if r is None else r <= t.goal
            met[t.scenario + "/ceiling"] = ok
            p(
                f"| {t.scenario} | {spread(values(mine, t.scenario, 'rps'))} | "
                f"{spread(values(by_label[ceiling], t.scenario, 'rps'))} | "
                + ("-" if r is None else f"{r:.2f}x")
                + f" | ≤{t.goal:g}x | "
                + ("no data" if ok is None else ("**met**" if ok else "**missed**"))
                + " |"
            )
        p("")

    # ---- server CPU per request: the figure noise affects least
    labels = [ours, *css] + ([ceiling] if ceiling in by_label else [])
    p("### Server CPU per request, ms (user+sys of the server's process tree; least noise-sensitive)\n")
    head = ["scenario", *labels] + [f"{c} / {ours}" for c in css]
    p("| " + " | ".join(head) + " |")
    p("|" + "---|" * len(head))
    for s in [*INFO_SCENARIOS, "get_container_1000", "get_container_10000"]:
        per = {lb: median(values(by_label[lb], s, "server_cpu_ms_per_req")) for lb in labels}
        if all(v is None for v in per.values()):
            continue
        rat = []
        for c in css:
            a, b = per[ours], per[c]
            rat.append(f"{b / a:.1f}x" if a and b else "-")
        cells = [spread(values(by_label[lb], s, "server_cpu_ms_per_req"), 2) for lb in labels]
        p(f"| {s} | " + " | ".join(cells + rat) + " |")
    p("")

    # ---- noise
    p("### Noise: other tenants' CPU during each scenario, % of the machine (2 cores = 100%)\n")
    p("| scenario | " + " | ".join(labels) + " |")
    p("|" + "---|" * (len(labels) + 1))
    for s in INFO_SCENARIOS:
        p(f"| {s} | " + " | ".join(spread(values(by_label[lb], s, "other_cpu_pct")) for lb in labels) + " |")
    p("")

    # ---- the rest of what the harness measured
    p("### Other figures\n")
    p("| | " + " | ".join(labels) + " |")
    p("|" + "---|" * (len(labels) + 1))
    for s in INFO_SCENARIOS:
        lat = [
            f"{fmt(median(values(by_label[lb], s, 'p50_ms')), 2)} / "
            f"{fmt(median(values(by_label[lb], s, 'p99_ms')), 2)}"
            for lb in labels
        ]
        p(f"| {s}, p50 / p99 ms | " + " | ".join(lat) + " |")
    for n in (10, 1000, 10000):
        cells = []
        for lb in labels:
            secs = values(by_label[lb], f"create_{n}", "seconds")
            cells.append(spread(secs, 2) + " s" if secs else "-")
        if any(c != "-" for c in cells):
            p(f"| fill a container with {n:,} children (PUT, 8 threads) | " + " | ".join(cells) + " |")
    p(
        "| cold start, s | "
        + " | ".join(
            spread([float(r["cold_start_s"]) for r in by_label[lb] if r.get("cold_start_s") is not None], 2)
            for lb in labels
        )
        + " |"
    )
    p(
        "| peak RSS, MB (VmHWM, process tree, highest round) | "
        + " | ".join(fmt(peak_memory(by_label[lb])) for lb in labels)
        + " |"
    )
    p(
        "| machine busy % during run | "
        + " | ".join(
            spread([float((r.get("machine") or {}).get("busy_pct") or 0) for r in by_label[lb]])
            for lb in labels
        )
        + " |"
    )
    p("")

    problems = []
    for lb in labels:
        for i, run in enumerate(by_label[lb], 1):
            for scen, row in run["scenarios"].items():
                if "error" in row:
                    problems.append(f"{lb} round {i} {scen}: ERROR {str(row['error'])[:200]}")
                elif row.get("warning"):
                    problems.append(f"{lb} round {i} {scen}: {row['warning']} (left out of the medians)")
                elif row.get("skipped") and scen != "auth_get":  # no log-in yet: expected
                    problems.append(f"{lb} round {i} {scen}: skipped, {row['skipped']}")
    if problems:
        p("### Errors and warnings\n")
        out.extend(f"- {x}" for x in problems)
        p("")

    met_n = sum(1 for v in met.values() if v)
    missed = [k for k, v in met.items() if v is False]
    p(f"**Targets met: {met_n} of {len(met)}**" + (f"; missed: {', '.join(missed)}" if missed else "") + ".")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="+", help="results folder(s) of run.sh / run_all.sh, or JSON files")
    ap.add_argument("--ours", default="ours", help="label of our server's runs")
    ap.add_argument("--css", default="css-file,css-mem", help="comma list of CSS labels to compare with")
    ap.add_argument("--ceiling", default="flask-ceiling", help="label of the bare Flask ceiling")
    a = ap.parse_args(argv)
    by_label = load(a.paths)
    print(report(by_label, a.ours, [c.strip() for c in a.css.split(",") if c.strip()], a.ceiling))
    return 0


if __name__ == "__main__":
    sys.exit(main())
