#!/usr/bin/env bash
# timed.sh STEP COMMAND…: runs COMMAND and appends how long it took to target/test-times.txt,
# which `make test` prints at its end (steps built side by side overlap in wall time).
set -uo pipefail
step=$1
shift
start=$(date +%s)
"$@"
rc=$?
mkdir -p target
printf '%-26s %4d s%s\n' "$step" "$(($(date +%s) - start))" "$([ "$rc" -eq 0 ] || echo " (failed: $rc)")" >> target/test-times.txt
exit "$rc"
