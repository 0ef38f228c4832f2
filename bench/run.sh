#!/usr/bin/env bash
# Entry point of `make bench`: runs every benchmark suite in bench/*/run.sh
# against one agentd binary and leaves the reports in $BENCH_OUT
# (default build/bench/). See docs/performance.md.
#
# usage: bench/run.sh AGENTD_BINARY [SUITE...]     (default: every suite present)
# Exit status: 0 when every suite ran (even if some targets FAIL; read the
# reports), 1 when a suite could not run.
set -uo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ $# -lt 1 ]; then
    echo "usage: $0 AGENTD_BINARY [SUITE...]" >&2
    exit 2
fi
BIN="$1"; shift
[ -x "$BIN" ] || { echo "bench: agentd binary '$BIN' not found or not executable" >&2; exit 1; }
export BENCH_OUT="${BENCH_OUT:-$(cd "$BENCH_DIR/.." && pwd)/build/bench}"

suites=("$@")
if [ ${#suites[@]} -eq 0 ]; then
    for f in "$BENCH_DIR"/*/run.sh; do
        [ -f "$f" ] && suites+=("$(basename "$(dirname "$f")")")
    done
fi

# Each suite runs in the background so that a SIGINT/SIGTERM here reaches it
# at once; the suite's own trap then stops the servers it started.
SUITE_PID=""
forward() {
    [ -n "$SUITE_PID" ] && kill -TERM "$SUITE_PID" 2>/dev/null && wait "$SUITE_PID" 2>/dev/null
    exit "$1"
}
trap 'forward 130' INT
trap 'forward 143' TERM

failed=()
for s in "${suites[@]}"; do
    script="$BENCH_DIR/$s/run.sh"
    [ -f "$script" ] || { echo "bench: no suite '$s' ($script)" >&2; failed+=("$s"); continue; }
    echo "== bench suite: $s =="
    bash "$script" "$BIN" &
    SUITE_PID=$!
    wait "$SUITE_PID" || failed+=("$s")
    SUITE_PID=""
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "bench: suite(s) that could not run: ${failed[*]}" >&2
    exit 1
fi
echo "bench: reports in $BENCH_OUT"
