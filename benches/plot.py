#!/usr/bin/env python3
"""Draws the peers comparison from RESULT lines.

    python3 benches/plot.py benches/results.txt            # writes benches/results.svg
    cargo run --profile bench -p peers | python3 benches/plot.py - -o /tmp/chart.png
    python3 benches/plot.py --table benches/results.txt    # a Markdown table instead
    python3 benches/plot.py --table a.txt --against b.txt  # Markdown: a's value, b's, change

Reads ``RESULT <workload> <runtime> <value>`` lines (other lines are ignored; a pair that appears
more than once, as in several runs appended to one file, counts as the median of its values) and draws one horizontal grouped bar chart: per workload, each
runtime's value divided by the best Rust peer's (tokio, tokio-localset, async-executor,
localpool), on a log scale, so 1.0 is "as fast as the best peer" and shorter is better.
"""

import argparse
import math
import os
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

RUNTIMES = ["asyncio-rs", "tokio", "tokio-localset", "async-executor", "localpool", "cpython", "uvloop"]
PEERS = ["tokio", "tokio-localset", "async-executor", "localpool"]
COLORS = {
    "asyncio-rs": "#d62728",
    "tokio": "#1f77b4",
    "tokio-localset": "#6baed6",
    "async-executor": "#2ca02c",
    "localpool": "#9467bd",
    "cpython": "#7f7f7f",
    "uvloop": "#bcbd22",
}
# Diagnostics that the table shows but the chart leaves out, to stay readable at a glance.
NOT_CHARTED = {"memory_allocs", "memory_heap"}
UNITS = {"memory": "B/task", "memory_allocs": "allocs/spawn", "memory_heap": "heap B/task", "timers": "CPU ns/op"}


def read_results(lines):
    values = {}
    order = []
    for line in lines:
        words = line.split()
        if len(words) != 4 or words[0] != "RESULT":
            continue
        _, workload, runtime, value = words
        try:
            value = float(value)
        except ValueError:
            continue
        if workload not in order:
            order.append(workload)
        values.setdefault((workload, runtime), []).append(value)
    return order, {key: statistics.median(vs) for key, vs in values.items()}


def fmt(value):
    if not math.isfinite(value):
        return "nan"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}"


def best_peer(results, workload):
    best = [results[(workload, p)] for p in PEERS if (workload, p) in results
            and math.isfinite(results[(workload, p)]) and results[(workload, p)] > 0]
    return min(best) if best else None


def print_table(order, results):
    """Markdown: workload x runtime, value and ratio to the best Rust peer, and CPython's
    time over asyncio-rs's."""
    runtimes = [rt for rt in RUNTIMES if any((w, rt) in results for w in order)]
    print("| workload | unit | " + " | ".join(runtimes) + " | cpython / asyncio-rs |")
    print("|---|---|" + "---:|" * (len(runtimes) + 1))
    for w in order:
        best = best_peer(results, w)
        cells = []
        for rt in runtimes:
            value = results.get((w, rt))
            if value is None:
                cells.append("-")
            elif best and math.isfinite(value):
                ratio = value / best
                cell = f"{fmt(value)} ({ratio:.2f}x)"
                cells.append(f"**{cell}**" if rt == "asyncio-rs" else cell)
            else:
                cells.append(fmt(value))
        py, rs = results.get((w, "cpython")), results.get((w, "asyncio-rs"))
        speedup = f"{py / rs:.0f}x" if py and rs and math.isfinite(py) else "-"
        print(f"| {w} | {UNITS.get(w, 'ns/op')} | " + " | ".join(cells) + f" | {speedup} |")


def print_against(order, results, other):
    """Markdown: this run's value, the other run's, and the change, per workload x runtime."""
    runtimes = [rt for rt in RUNTIMES if any((w, rt) in results and (w, rt) in other for w in order)]
    print("| workload | " + " | ".join(runtimes) + " |")
    print("|---|" + "---:|" * len(runtimes))
    for w in order:
        cells = []
        for rt in runtimes:
            a, b = results.get((w, rt)), other.get((w, rt))
            if a is None or b is None or not (math.isfinite(a) and math.isfinite(b)) or a == 0:
                cells.append("-")
            else:
                cells.append(f"{fmt(a)} → {fmt(b)} ({(b - a) / a * 100:+.0f}%)")
        if any(c != "-" for c in cells):
            print(f"| {w} | " + " | ".join(cells) + " |")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("input", nargs="?", default=os.path.join(here, "results.txt"),
                        help="file of RESULT lines, or - for stdin (default: benches/results.txt)")
    parser.add_argument("-o", "--output", default=os.path.join(here, "results.svg"),
                        help="image to write; .svg or .png (default: benches/results.svg)")
    parser.add_argument("--table", action="store_true",
                        help="print a Markdown table of the results instead of drawing")
    parser.add_argument("--against", metavar="FILE",
                        help="with --table: compare with the RESULT lines in FILE")
    parser.add_argument("--title", default="asyncio-rs and its peers: time (or memory) relative to the best Rust peer")
    args = parser.parse_args()

    if args.input == "-":
        order, results = read_results(sys.stdin)
    else:
        with open(args.input) as f:
            order, results = read_results(f)
    if not results:
        sys.exit("plot.py: no RESULT lines in the input")
    if args.table:
        if args.against:
            with open(args.against) as f:
                print_against(order, results, read_results(f)[1])
        else:
            print_table(order, results)
        return

    # Workloads with a peer to compare against, top to bottom in run order.
    rows = [(w, best_peer(results, w)) for w in order if w not in NOT_CHARTED and best_peer(results, w)]
    runtimes = [rt for rt in RUNTIMES if any((w, rt) in results for w, _ in rows)]
    if not rows:
        sys.exit("plot.py: no workload has a Rust peer result to compare against")

    bar = 0.8 / len(runtimes)
    fig_height = 1.2 + 0.13 * len(rows) * len(runtimes) + 0.2 * len(rows)
    fig, ax = plt.subplots(figsize=(10, fig_height))
    lo, hi = 1.0, 1.0
    for i, rt in enumerate(runtimes):
        ys, ratios, labels = [], [], []
        for row, (workload, best) in enumerate(rows):
            value = results.get((workload, rt))
            if value is None or not math.isfinite(value) or value <= 0:
                continue
            ratio = value / best
            lo, hi = min(lo, ratio), max(hi, ratio)
            ys.append(row + (i - (len(runtimes) - 1) / 2) * bar)
            ratios.append(ratio)
            labels.append(f"{ratio:.2f}x" if ratio < 10 else f"{ratio:.0f}x")
        bars = ax.barh(ys, ratios, height=bar * 0.9, color=COLORS.get(rt, "black"), label=rt)
        ax.bar_label(bars, labels=labels, padding=2, fontsize=6)

    ax.set_xscale("log")
    ax.set_xlim(min(lo, 1.0) / 1.6, max(hi, 1.0) * 2.0)
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.axvline(0.8, color="#d62728", linewidth=0.8, linestyle="--")
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([f"{w}\n(best {best:.3g} {UNITS.get(w, 'ns/op')})" for w, best in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("value / best Rust peer  (log scale; lower is better; dashed: the 0.8x target)")
    ax.set_title(args.title, fontsize=10)
    ax.grid(axis="x", which="both", alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(args.output)
    print(f"plot.py: wrote {args.output}")


if __name__ == "__main__":
    main()
