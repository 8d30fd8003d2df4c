#!/usr/bin/env bash
# Runs the test binaries under valgrind's memcheck: any invalid access, use of uninitialised
# memory, or definite/indirect leak fails CI. Skipped: tests whose point is wall-clock time
# (valgrind is ~30x slower), tests that spawn cargo or rustc, and the fd-limit test (valgrind
# keeps descriptors of its own), the signal tests (valgrind delivers signals itself), and the
# proc-macro crate (its test binary links std dynamically). std's main-thread handle shows as
# "possibly lost": not counted.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v valgrind >/dev/null; then
  apt-get update -qq && apt-get install -y -qq valgrind >/dev/null
fi

skip_binaries=" concurrency examples_golden_asyncio examples_golden_generators examples_golden_io examples_golden_proc compile_errors streams_emfile signals asyncio_macros "
skip_tests=(
  --skip a_million_dropped_sleeps_leave_the_wheel_empty
  --skip debug_mode_reports_a_slow_task_step_with_its_name
  --skip real_clock
  # valgrind's own exec handling hides the spawn error of a missing program from std.
  --skip a_missing_program_is_not_found_and_named
)

mapfile -t binaries < <(cargo test --no-run --message-format=json 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["profile"]["test"]:
        print(m["target"]["name"] + " " + m["executable"])
')

failed=0
for entry in "${binaries[@]}"; do
  name=${entry%% *}
  exe=${entry#* }
  case "$skip_binaries" in *" $name "*) continue ;; esac
  start=$(date +%s)
  if valgrind -q --error-exitcode=99 --leak-check=full \
      --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
      "$exe" -q "${skip_tests[@]}" > "target/valgrind-$name.log" 2>&1; then
    echo "valgrind ok: $name ($(( $(date +%s) - start )) s)"
  else
    echo "valgrind FAILED: $name (see below)"
    tail -40 "target/valgrind-$name.log"
    failed=1
  fi
done
exit $failed
