#!/usr/bin/env bash
# The TCP echo benchmark (see BENCHMARKS.md, "TCP echo"): builds everything, then runs the driver,
# which starts every server at once (pinned to CPU 0), visits them in turn with the load client
# (pinned to CPU 1) over ECHO_ROUNDS rounds, counts syscalls with perf, and prints Markdown tables
# and `RESULT echo <config> <server> <metric> <value>` lines, saved under target/echo/.
#
#   bash benches/echo/run.sh                              # full run: 3 rounds, 10-20 minutes
#   ECHO_QUICK=1 bash benches/echo/run.sh                 # 1 short round, under 2 minutes once built
#   ECHO_SERVERS=tokio,c-epoll ECHO_CONFIGS=1k-c1,1k-c10 bash benches/echo/run.sh
#
# Knobs: ECHO_QUICK, ECHO_SERVERS, ECHO_CONFIGS (<size>-c<conns>, size in bytes or with k for KiB),
# ECHO_ROUNDS, ECHO_WARMUP and ECHO_DURATION (seconds per visit), ECHO_MAX_WAIT and ECHO_RETRIES
# (a visit whose server waited over 10% of it for its core is run again, once), ECHO_PIN=0,
# ECHO_SYSCALLS=0|strace,
# ECHO_PYTHON (an interpreter that has uvloop; by default a venv under target/echo/venv gets it
# from benches/requirements.txt). Honours CARGO_TARGET_DIR.
#
# Needs: cargo, gcc, python3 (with venv and pip for uvloop), taskset and perf (Debian: util-linux,
# linux-perf) for pinning and syscall counts; what is missing is left out with a note.
set -euo pipefail
cd "$(dirname "$0")/../.."
target="${CARGO_TARGET_DIR:-target}"

# The workspace's bench profile (lto, one codegen unit); cargo puts its binaries in release/.
cargo build --profile bench -p echo-bench

# Python: uvloop (and matplotlib for the chart) in a venv of our own, unless ECHO_PYTHON is set.
if [ -z "${ECHO_PYTHON:-}" ] && command -v python3 >/dev/null; then
    venv="$target/echo/venv"
    if [ ! -x "$venv/bin/python" ]; then
        python3 -m venv --system-site-packages "$venv" >&2 || echo "note: no venv; Python servers use python3 as it is" >&2
    fi
    if [ -x "$venv/bin/python" ]; then
        if ! "$venv/bin/python" -c 'import uvloop, matplotlib' 2>/dev/null; then
            "$venv/bin/python" -m pip install -q -r benches/requirements.txt >&2 \
                || echo "note: pip could not install benches/requirements.txt; without uvloop its servers are left out" >&2
        fi
        export ECHO_PYTHON="$venv/bin/python"
    fi
fi

# The driver kills every server it started on any exit (and the kernel does, should it die: each
# child has PR_SET_PDEATHSIG). It runs in the background so that this script can pass Ctrl-C or
# a kill on to it; a background job of a script would otherwise ignore SIGINT.
"$target/release/echo-bench" "$@" &
driver=$!
trap 'kill -TERM "$driver" 2>/dev/null || true' INT TERM HUP
status=0
wait "$driver" || status=$?
# A trapped signal interrupts the first wait: wait again for the driver to be gone.
if kill -0 "$driver" 2>/dev/null; then wait "$driver" || status=$?; fi
trap - INT TERM HUP

# The chart, where matplotlib is at hand.
python="${ECHO_PYTHON:-python3}"
if [ "$status" = 0 ] && "$python" -c 'import matplotlib' 2>/dev/null; then
    "$python" benches/echo/plot.py "$target/echo/results.txt" -o "$target/echo/results.svg" >&2 || true
fi
exit "$status"
