# shellcheck shell=bash
# Shared helpers for the benchmark scripts. Source it; do not run it.
#
# Every server a benchmark starts goes through bench_start, which puts it in a
# process group of its own (setsid), so bench_stop and the EXIT trap can end it
# together with its workers, by that group's id and nothing else.

BENCH_LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BENCH_PY="${BENCH_PYTHON:-/usr/bin/python3}"   # Debian's python3: stdlib + FastAPI
BENCH_PIDS=()      # group leaders started by bench_start, in start order
BENCH_LAST_PID=""  # set by bench_start (it cannot return it through $(...))
BENCH_FG_PID=""    # the command bench_fg is waiting for

bench_log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
bench_die() { printf '[bench %s] ERROR: %s\n' "$(date +%H:%M:%S)" "$*" >&2; exit 1; }

# bench_alive PID: true while PID exists and is not a zombie.
bench_alive() {
    local st
    [ -r "/proc/$1/stat" ] || return 1
    st="$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)"
    [ -n "$st" ] && [ "$st" != "Z" ]
}

# bench_start LOGFILE CMD ARGS...: runs CMD in the background in a new process
# group (its pid is the group id), stdout+stderr to LOGFILE. Sets BENCH_LAST_PID.
bench_start() {
    local log="$1"; shift
    setsid "$@" >"$log" 2>&1 </dev/null &
    BENCH_LAST_PID=$!
    BENCH_PIDS+=("$BENCH_LAST_PID")
}

# bench_stop PID [GRACE_SECONDS]: SIGTERM to PID's group, wait up to GRACE
# seconds (default 10) for the leader, then SIGKILL whatever is left of the
# group and reap the leader. Returns 0 if it exited within the grace period.
bench_stop() {
    local pid="$1" grace="${2:-10}" i clean=0
    [ -n "$pid" ] || return 0
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < grace * 10; i++)); do
        bench_alive "$pid" || { clean=1; break; }
        sleep 0.1
    done
    # The leader is not reaped yet, so its pid (= the group id) cannot have been reused.
    kill -KILL -- "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    local kept=()
    for p in "${BENCH_PIDS[@]}"; do [ "$p" = "$pid" ] || kept+=("$p"); done
    BENCH_PIDS=("${kept[@]}")
    [ "$clean" = 1 ]
}

# bench_fg CMD ARGS...: runs CMD like a foreground command, but in the
# background + wait, so that a SIGTERM/SIGINT trap runs at once instead of
# after CMD ends; bench_stop_all then ends CMD too. Returns CMD's status.
bench_fg() {
    "$@" &
    BENCH_FG_PID=$!
    local rc=0
    wait "$BENCH_FG_PID" || rc=$?
    BENCH_FG_PID=""
    return "$rc"
}

bench_stop_all() {
    local p
    if [ -n "$BENCH_FG_PID" ]; then
        kill -TERM "$BENCH_FG_PID" 2>/dev/null || true
        wait "$BENCH_FG_PID" 2>/dev/null || true
        BENCH_FG_PID=""
    fi
    for p in "${BENCH_PIDS[@]}"; do bench_stop "$p" 5 || true; done
}

# bench_free_port: prints a TCP port that was free on 127.0.0.1 a moment ago.
bench_free_port() {
    "$BENCH_PY" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# bench_rss_kb PID FIELD: prints FIELD (VmRSS, VmHWM) of PID in kB.
bench_rss_kb() {
    awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}

# bench_wait_http PID URL SECONDS: waits until URL answers 200 while PID lives.
bench_wait_http() {
    local pid="$1" url="$2" secs="$3" i
    for ((i = 0; i < secs * 10; i++)); do
        bench_alive "$pid" || return 1
        if "$BENCH_PY" "$BENCH_LIB_DIR/http_get.py" --quiet "$url" >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.1
    done
    return 1
}

# bench_show_log FILE: last lines of a child's log, for error messages.
bench_show_log() {
    [ -s "$1" ] || return 0
    echo "---- last lines of $1 ----" >&2
    tail -n 20 "$1" >&2
    echo "----" >&2
}
