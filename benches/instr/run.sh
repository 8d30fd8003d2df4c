#!/usr/bin/env bash
# Instructions per operation (see BENCHMARKS.md, "Instructions per operation"): builds the
# `instr` binary with the workspace's bench profile (lto = "fat", one codegen unit; every runtime
# at its best), then runs the driver, which counts each (operation, runtime) case under
# valgrind's callgrind with n and 2n operations and prints (Ir(2n) - Ir(n)) / n, the ratio of
# asyncio-rs to the best peer, allocations per op, resident bytes per pending task, and where
# asyncio-rs's instructions go per function. Everything is saved under target/instr/.
#
#   bash benches/instr/run.sh                                  # full run, ~10 minutes once built
#   INSTR_QUICK=1 bash benches/instr/run.sh                    # n / 5, 3 repetitions: ~3 minutes
#   INSTR_OPS=yield_wake,spawn_await INSTR_RUNTIMES=asyncio-rs,tokio bash benches/instr/run.sh
#
# Knobs: INSTR_QUICK, INSTR_OPS, INSTR_RUNTIMES (comma-separated; `target/release/instr --list`
# has the names), INSTR_N (one n for every op), INSTR_REPEAT (runs of timer_fire and
# cross_thread_wake, whose counts depend on the real clock or another thread; default 5, quick
# 3), INSTR_MEMORY (pending tasks for the resident-set figure, 0 to skip), INSTR_CHECK=all
# (repeat every exact case to show it counts the same twice, not only each runtime's first),
# INSTR_PAUSED=0 (skip the second build that tokio's paused clock needs). Honours
# CARGO_TARGET_DIR.
#
# Runs are made with address randomisation off (`setarch -R`) where that works: std's start-up
# reads /proc/self/maps, whose length moves with the addresses.
#
# Needs valgrind (Debian/Ubuntu: apt-get install valgrind).
set -euo pipefail
cd "$(dirname "$0")/../.."
target="${CARGO_TARGET_DIR:-target}"

if ! command -v valgrind >/dev/null; then
    echo "benches/instr/run.sh needs valgrind: apt-get install valgrind (or your system's package)" >&2
    exit 1
fi

# tokio's `start_paused` needs its test-util feature, which also slows tokio's clock down for
# every timer: a build of its own, used only for tokio's `timer_fire_virtual`. Built first, so
# that the plain build is the one left at target/release/instr.
if [ "${INSTR_PAUSED:-1}" != 0 ]; then
    cargo build --profile bench -p instr-bench --bin instr --features paused-clock
    cp "$target/release/instr" "$target/release/instr-paused"
else
    rm -f "$target/release/instr-paused"
fi
cargo build --profile bench -p instr-bench --bins

export INSTR_OUT="${INSTR_OUT:-$target/instr}"
exec "$target/release/instr-report" "$@"
