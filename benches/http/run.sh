#!/usr/bin/env bash
# HTTP hello-world under wrk and TCP echo over protocols (BENCHMARKS.md, "HTTP hello-world"
# and "Protocol echo"): builds with the workspace's bench profile, then runs the driver, which
# visits every server in turn (pinned to CPU 0, or CPUs 0-1 for two threads; the load on the
# last CPU) and prints Markdown tables, saved to target/http/results.md.
#
#   bash benches/http/run.sh                  # 3 rounds, about 10 minutes
#   HTTP_QUICK=1 bash benches/http/run.sh     # 1 short round
#   HTTP_ONLY=http bash benches/http/run.sh   # or echo
#
# Needs: cargo; wrk for the HTTP part (Debian: apt-get install wrk); python3 with venv and
# pip for uvloop (a venv under target/http/venv gets it); taskset and perf for pinning and
# syscall counts. What is missing is left out with a note. Honours CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/../.."
target="${CARGO_TARGET_DIR:-target}"

cargo build --profile bench -p http-bench

if [ -z "${HTTP_PYTHON:-}" ] && command -v python3 >/dev/null; then
    venv="$target/http/venv"
    if [ ! -x "$venv/bin/python" ]; then
        python3 -m venv "$venv" >&2 || echo "note: no venv; uvloop servers left out" >&2
    fi
    if [ -x "$venv/bin/python" ]; then
        if ! "$venv/bin/python" -c 'import uvloop' 2>/dev/null; then
            "$venv/bin/python" -m pip install -q 'uvloop>=0.19' >&2 \
                || echo "note: pip could not install uvloop; its servers are left out" >&2
        fi
        if "$venv/bin/python" -c 'import uvloop' 2>/dev/null; then
            export HTTP_PYTHON="$venv/bin/python"
        fi
    fi
fi

mkdir -p "$target/http"
"$target/release/http-bench" "$@" | tee "$target/http/results.md"
