#!/usr/bin/env bash
# timed.sh STEP COMMAND…: runs COMMAND and appends how long it took to target/test-times.txt
# (the project's, from any directory), which `make test` prints at its end (steps built side
# by side overlap in wall time).
set -uo pipefail
step=$1
shift
start=$(date +%s)
"$@"
rc=$?
times="$(cd "$(dirname "$0")/.." && pwd)/target/test-times.txt"
mkdir -p "$(dirname "$times")"
printf '%-26s %4d s%s\n' "$step" "$(($(date +%s) - start))" "$([ "$rc" -eq 0 ] || echo " (failed: $rc)")" >> "$times"
exit "$rc"
