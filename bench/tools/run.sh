#!/usr/bin/env bash
# Tools benchmark: Grep and Glob on a 100,000-file tree against grep -r and find,
# the Bash tool's round trip for `true`, and Read of a 10-page PDF, on the local and bwrap
# workspaces.
# See docs/performance.md, "Tools".
#
# usage: bench/tools/run.sh AGENTD_BINARY   (the bench programs are looked up beside it)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BIN="$(realpath -e "${1:?usage: $0 AGENTD_BINARY}")"
DIR="$(dirname "$BIN")"
OUT="${BENCH_OUT:-$HERE/../../build/bench}"
mkdir -p "$OUT"
REPORT="$OUT/tools-$(date +%F).md"
{
  echo "# Tools benchmark, $(date -u +%FT%TZ)"
  echo
  echo "## Grep / Glob vs grep -r / find"
  echo '```'
  "$HERE/grep_glob_bench.sh" "$DIR/file_tools_bench"
  echo '```'
  echo
  echo "## Bash (true) and Read (10-page PDF) round trips"
  echo '```'
  "$DIR/agentd_tools_bench" --benchmark_min_time=1 2>&1
  echo '```'
} | tee "$REPORT"
echo "report: $REPORT"
