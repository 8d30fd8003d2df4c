#!/usr/bin/env bash
# Runs the full peers comparison and regenerates the report's raw material:
#   benches/results.txt         RESULT lines of the default run (Rust peers, CPython, uvloop)
#   benches/results-trim.txt    RESULT lines of $TRIM_PAIRS (default 3) quick Rust-only runs ...
#   benches/results-notrim.txt  ... alternating with as many with glibc's malloc trimming off
#                               (GLIBC_TUNABLES=glibc.malloc.trim_threshold=1000000000)
#   benches/results.svg         the chart (benches/plot.py)
# and prints the Markdown tables that BENCHMARKS.md shows.
#
#   bash benches/report.sh                 # full run, a few minutes on 2 cores
#   PEERS_QUICK=1 bash benches/report.sh   # the quick run, under a minute or two
#
# Needs: cargo, python3 with `pip install -r benches/requirements.txt` (matplotlib; uvloop optional).
# Honours CARGO_TARGET_DIR and the PEERS_* variables (see BENCHMARKS.md).
set -euo pipefail
cd "$(dirname "$0")/.."

# Build once, then run the binary itself: both runs measure the same build. PEERS_NO_BUILD=1
# reuses the binary already built (for instance while the crate is being edited).
if [ "${PEERS_NO_BUILD:-0}" = 0 ]; then
    # The bench profile (fat LTO, one codegen unit: every runtime at its best); cargo puts
    # its output in target/release.
    cargo build --profile bench -p peers
fi
peers="${CARGO_TARGET_DIR:-target}/release/peers"

echo "== default run" >&2
"$peers" | tee benches/results.txt

# glibc's malloc trimming: quick Rust-only runs, alternating default and no-trimming so that a busy
# moment of a shared machine hits both alike; plot.py takes the median of each figure.
echo "== malloc trimming: ${TRIM_PAIRS:=3} alternating pairs of quick runs" >&2
: > benches/results-trim.txt
: > benches/results-notrim.txt
for _ in $(seq "$TRIM_PAIRS"); do
    PEERS_QUICK=1 PEERS_PYTHON=0 "$peers" >> benches/results-trim.txt
    GLIBC_TUNABLES=glibc.malloc.trim_threshold=1000000000 PEERS_QUICK=1 PEERS_PYTHON=0 \
        "$peers" >> benches/results-notrim.txt
done

python3 benches/plot.py benches/results.txt -o benches/results.svg

echo
echo "## Results (Markdown)"
python3 benches/plot.py --table benches/results.txt
echo
echo "## Default -> no malloc trimming (Markdown)"
python3 benches/plot.py --table benches/results-trim.txt --against benches/results-notrim.txt
