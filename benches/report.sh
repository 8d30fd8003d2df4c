#!/usr/bin/env bash
# Runs the full peers comparison and regenerates the report's raw material:
#   benches/results.txt         RESULT lines of the default run (Rust peers, CPython, uvloop)
#   benches/results-notrim.txt  RESULT lines of a Rust-only rerun with glibc's malloc trimming
#                               off (GLIBC_TUNABLES=glibc.malloc.trim_threshold=1000000000)
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

cargo build --release -p peers

echo "== default run" >&2
cargo run --release -q -p peers | tee benches/results.txt

echo "== rerun without malloc trimming (Rust only)" >&2
GLIBC_TUNABLES=glibc.malloc.trim_threshold=1000000000 PEERS_PYTHON=0 \
    cargo run --release -q -p peers | tee benches/results-notrim.txt

python3 benches/plot.py benches/results.txt -o benches/results.svg

echo
echo "## Results (Markdown)"
python3 benches/plot.py --table benches/results.txt
echo
echo "## Default -> no malloc trimming (Markdown)"
python3 benches/plot.py --table benches/results.txt --against benches/results-notrim.txt
