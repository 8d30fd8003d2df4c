#!/usr/bin/env python3
"""Draws the TCP echo comparison from ``RESULT echo <config> <server> <metric> <value>`` lines.

    python3 benches/echo/plot.py target/echo/results.txt -o target/echo/results.svg

Two panels, one group of bars per config (1k-c1, 1k-c10, ...), one bar per server: the server's
CPU time per round trip divided by tokio's (log scale, lower is better; the dashed line is 1.0),
and syscalls per round trip. Lines that are not ``RESULT echo`` lines are ignored; a figure that
appears more than once (several runs in one file) counts as the median of its values.
"""

import argparse
import math
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FormatStrFormatter, NullFormatter  # noqa: E402

REFERENCE = "tokio"
COLORS = {
    "asyncio-rs-streams": "#d62728",
    "asyncio-rs-sock": "#ff9896",
    "tokio": "#1f77b4",
    "async-io": "#2ca02c",
    "c-epoll": "#000000",
    "cpython-streams": "#7f7f7f",
    "cpython-protocol": "#c7c7c7",
    "uvloop-streams": "#bcbd22",
    "uvloop-protocol": "#dbdb8d",
}


def read_results(lines):
    values, configs, servers = {}, [], []
    for line in lines:
        words = line.split()
        if len(words) != 6 or words[:2] != ["RESULT", "echo"]:
            continue
        _, _, config, server, metric, value = words
        try:
            value = float(value)
        except ValueError:
            continue
        if config not in configs:
            configs.append(config)
        if server not in servers:
            servers.append(server)
        values.setdefault((config, server, metric), []).append(value)
    return configs, servers, {k: statistics.median(v) for k, v in values.items()}


def panel(ax, configs, servers, values, metric, reference, label):
    bar = 0.8 / len(servers)
    for i, server in enumerate(servers):
        xs, ys, texts = [], [], []
        for c, config in enumerate(configs):
            value = values.get((config, server, metric))
            if value is None or not math.isfinite(value) or value <= 0:
                continue
            if reference:
                base = values.get((config, REFERENCE, metric))
                if not base:
                    continue
                value /= base
            xs.append(c + (i - (len(servers) - 1) / 2) * bar)
            ys.append(value)
            texts.append(f"{value:.2f}" if value < 10 else f"{value:.0f}")
        bars = ax.bar(xs, ys, width=bar * 0.9, color=COLORS.get(server, None), label=server)
        ax.bar_label(bars, labels=texts, padding=1, fontsize=5, rotation=90)
    ax.set_xticks(range(len(configs)))
    ax.set_xticklabels(configs)
    ax.set_ylabel(label, fontsize=8)
    ax.grid(axis="y", which="both", alpha=0.3)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("input", help="file of RESULT lines, or - for stdin")
    parser.add_argument("-o", "--output", default="target/echo/results.svg", help="image to write (.svg or .png)")
    parser.add_argument("--title", default="TCP echo on loopback: server CPU per round trip and syscalls per round trip")
    args = parser.parse_args()

    if args.input == "-":
        configs, servers, values = read_results(sys.stdin)
    else:
        with open(args.input) as f:
            configs, servers, values = read_results(f)
    if not values:
        sys.exit("plot.py: no RESULT echo lines in the input")

    fig, (cpu, sys_ax) = plt.subplots(2, 1, figsize=(11, 7.5))
    if any(k[1] == REFERENCE for k in values):
        panel(cpu, configs, servers, values, "cpu_us", True, f"server CPU per round trip / {REFERENCE}'s (log)")
        cpu.set_yscale("log")
        cpu.yaxis.set_major_formatter(FormatStrFormatter("%.2g"))
        cpu.yaxis.set_minor_formatter(NullFormatter())
        cpu.set_yticks([0.5, 0.75, 1, 1.5, 2, 3, 4, 6, 8])
        cpu.axhline(1.0, color="black", linewidth=0.8, linestyle="--")
    else:
        panel(cpu, configs, servers, values, "cpu_us", False, "server CPU µs per round trip")
    panel(sys_ax, configs, servers, values, "syscalls", False, "syscalls per round trip")
    handles, labels = cpu.get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=7, ncol=min(len(labels), 5), loc="upper center",
               bbox_to_anchor=(0.5, 0.965))
    fig.suptitle(args.title, fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.91))
    fig.savefig(args.output)
    print(f"plot.py: wrote {args.output}")


if __name__ == "__main__":
    main()
