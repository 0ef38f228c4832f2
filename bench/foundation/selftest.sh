#!/usr/bin/env bash
# Runs the foundation benchmark end to end against fake_agentd.py, with short
# load phases, to check the harness itself (seeding, nginx, FastAPI, wrk,
# report) without an agentd build. Its numbers mean nothing.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export BENCH_DURATION="${BENCH_DURATION:-2}" BENCH_WARMUP="${BENCH_WARMUP:-1}"
export BENCH_OUT="${BENCH_OUT:-$(mktemp -d /tmp/agentd-bench-selftest.XXXXXX)}"
exec "$HERE/run.sh" "$HERE/fake_agentd.py"
