#!/usr/bin/env bash
# Foundation benchmark: GET /health and GET /sessions/?agent_id= on agentd,
# against nginx serving the same bytes (the physical limit) and FastAPI +
# uvicorn returning them (the Python stack floor). See docs/performance.md.
#
# usage: bench/foundation/run.sh AGENTD_BINARY
# env:   BENCH_OUT (report folder, default <repo>/build/bench), BENCH_DURATION (10),
#        BENCH_WARMUP (2), BENCH_THREADS (2), BENCH_CONNECTIONS (64), BENCH_SESSIONS (100),
#        BENCH_MESSAGES (100), BENCH_TEXT_BYTES (10000), BENCH_FASTAPI_2WORKERS (1; 0 skips),
#        BENCH_KEEP (1 keeps the scratch folder), BENCH_PYTHON (/usr/bin/python3)
# Exit: 0 when every measurement ran (targets may still FAIL: it is a report),
#       1 when something could not run.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
# shellcheck source=bench/lib/common.sh
source "$HERE/../lib/common.sh"

[ $# -ge 1 ] || bench_die "usage: $0 AGENTD_BINARY"
BIN="$(realpath -e "$1" 2>/dev/null)" || bench_die "agentd binary '$1' not found (build it first)"
[ -x "$BIN" ] || bench_die "$BIN is not executable"

DURATION="${BENCH_DURATION:-10}"
WARMUP="${BENCH_WARMUP:-2}"
THREADS="${BENCH_THREADS:-2}"
CONNS="${BENCH_CONNECTIONS:-64}"
N_SESSIONS="${BENCH_SESSIONS:-100}"
N_MESSAGES="${BENCH_MESSAGES:-100}"
TEXT_BYTES="${BENCH_TEXT_BYTES:-10000}"
FASTAPI2="${BENCH_FASTAPI_2WORKERS:-1}"
OUT_DIR="${BENCH_OUT:-$REPO/build/bench}"
DATE="$(date +%F)"
USER_ID=bench
NGINX=/usr/sbin/nginx
WRK=/usr/bin/wrk

# ---- preconditions -------------------------------------------------------
[ -x "$WRK" ] || bench_die "wrk not found at $WRK (scripts/install-deps.sh bench)"
[ -x "$NGINX" ] || bench_die "nginx not found at $NGINX (scripts/install-deps.sh bench)"
[ -x "$BENCH_PY" ] || bench_die "$BENCH_PY not found"
"$BENCH_PY" -c 'import fastapi, uvicorn, sqlite3' 2>/dev/null ||
    bench_die "$BENCH_PY lacks fastapi/uvicorn/sqlite3 (Debian python3-fastapi python3-uvicorn)"
mkdir -p "$OUT_DIR"

WORK="$(mktemp -d /tmp/agentd-bench.XXXXXX)"
DATA="$WORK/data"; BODIES="$WORK/bodies"; RAW="$WORK/raw"
mkdir -p "$DATA" "$BODIES" "$RAW"
# shellcheck disable=SC2317  # called by the EXIT trap
on_exit() {
    local rc=$?
    bench_stop_all
    if [ "${BENCH_KEEP:-0}" = 1 ]; then bench_log "scratch kept in $WORK"; else rm -rf "$WORK"; fi
    exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- agentd --------------------------------------------------------------
AGENTD_PID=""; AGENTD_URL=""
start_agentd() {  # $1: log name
    local pf="$WORK/agentd.port" log="$WORK/$1.log" port="" i
    rm -f "$pf"
    # Like nginx here (access_log off), agentd runs without its per-request log line.
    AGENTD_ACCESS_LOG="${AGENTD_ACCESS_LOG:-false}" \
        bench_start "$log" "$BIN" serve --host 127.0.0.1 --port 0 --data-dir "$DATA" --port-file "$pf"
    AGENTD_PID="$BENCH_LAST_PID"
    for ((i = 0; i < 300; i++)); do
        if [ -s "$pf" ]; then
            port="$(tr -dc '0-9' <"$pf")"
            [ -n "$port" ] && break
        fi
        bench_alive "$AGENTD_PID" || { bench_show_log "$log"; bench_die "agentd exited during start"; }
        sleep 0.1
    done
    [ -n "$port" ] || { bench_show_log "$log"; bench_die "agentd wrote no port to $pf within 30 s"; }
    AGENTD_URL="http://127.0.0.1:$port"
    bench_wait_http "$AGENTD_PID" "$AGENTD_URL/health" 10 ||
        { bench_show_log "$log"; bench_die "agentd at $AGENTD_URL: GET /health never answered 200"; }
    bench_log "agentd pid $AGENTD_PID listening on $AGENTD_URL"
}

start_agentd agentd-seed
bench_log "seeding 1 agent and $N_SESSIONS sessions over HTTP"
AGENT_ID="$("$BENCH_PY" "$HERE/seed_http.py" "$AGENTD_URL" "$WORK/sessions.txt" \
    --sessions "$N_SESSIONS" --user "$USER_ID")" || bench_die "seeding over HTTP failed"
bench_stop "$AGENTD_PID" 20 || bench_log "warning: agentd did not stop within 20 s of SIGTERM; killed"
DB="$DATA/agentd.db"
[ -f "$DB" ] || bench_die "no $DB after the first run (files: $(cd "$DATA" && echo *))"
bench_log "seeding $N_MESSAGES messages x ~$TEXT_BYTES B into each session in $DB"
"$BENCH_PY" "$HERE/seed_messages.py" "$DB" "$WORK/sessions.txt" \
    --messages "$N_MESSAGES" --text-bytes "$TEXT_BYTES" || bench_die "seeding messages failed"

start_agentd agentd
sleep 1
RSS_START_RSS="$(bench_rss_kb "$AGENTD_PID" VmRSS)"
RSS_START_HWM="$(bench_rss_kb "$AGENTD_PID" VmHWM)"
bench_log "agentd idle RSS after start: ${RSS_START_RSS} kB"

SESSIONS_PATH="/sessions/?agent_id=$AGENT_ID"
"$BENCH_PY" "$REPO/bench/lib/http_get.py" --out "$BODIES/health.json" "$AGENTD_URL/health" >/dev/null ||
    bench_die "GET /health on agentd did not answer 200"
"$BENCH_PY" "$REPO/bench/lib/http_get.py" --out "$BODIES/sessions.json" "$AGENTD_URL$SESSIONS_PATH" >/dev/null ||
    bench_die "GET $SESSIONS_PATH on agentd did not answer 200"
"$BENCH_PY" - "$BODIES/sessions.json" "$N_SESSIONS" <<'PY' || bench_die "the captured session list is wrong"
import json, sys
d = json.load(open(sys.argv[1], "rb"))
n = int(sys.argv[2])
if d.get("total") != n or len(d.get("sessions", [])) != n:
    sys.exit(f"session list has total={d.get('total')}, {len(d.get('sessions', []))} items; expected {n}")
PY
# Informational: does agentd see the seeded conversation? (route may not exist yet)
FIRST_SESSION="$(head -n1 "$WORK/sessions.txt")"
if "$BENCH_PY" "$REPO/bench/lib/http_get.py" --quiet --out "$WORK/msgs.json" \
        "$AGENTD_URL/sessions/$FIRST_SESSION/messages?agent_id=$AGENT_ID&limit=1" >/dev/null 2>&1; then
    bench_log "seeded conversation visible: $(head -c 120 "$WORK/msgs.json" | tr -d '\n')..."
else
    bench_log "note: GET /sessions/{id}/messages not answering 200; seeded conversation not checked"
fi
chmod -R a+rX "$WORK"   # nginx workers may run as another user

# ---- nginx ---------------------------------------------------------------
NGX="$WORK/nginx"; mkdir -p "$NGX/tmp"
NGINX_PORT="$(bench_free_port)"
extra=""
for m in fastcgi uwsgi scgi; do
    "$NGINX" -V 2>&1 | grep -q -- "--without-http_${m}_module" ||
        extra+="    ${m}_temp_path $NGX/tmp/$m;"$'\n'
done
EXTRA_FILE="$WORK/nginx.extra"; printf '%s' "$extra" >"$EXTRA_FILE"
sed -e "s|@DIR@|$NGX|g" -e "s|@PORT@|$NGINX_PORT|g" -e "s|@BODIES@|$BODIES|g" \
    -e "/@EXTRA_TEMP_PATHS@/{r $EXTRA_FILE" -e "d}" "$HERE/nginx.conf.in" >"$NGX/nginx.conf"
bench_start "$WORK/nginx.log" "$NGINX" -p "$NGX" -c "$NGX/nginx.conf" -e "$NGX/error.log"
NGINX_PID="$BENCH_LAST_PID"
bench_wait_http "$NGINX_PID" "http://127.0.0.1:$NGINX_PORT/health" 10 ||
    { bench_show_log "$WORK/nginx.log"; bench_show_log "$NGX/error.log"; bench_die "nginx did not start"; }
bench_log "nginx pid $NGINX_PID on port $NGINX_PORT"

# ---- FastAPI + uvicorn ---------------------------------------------------
start_fastapi() {  # $1: workers; sets FASTAPI_PORT
    local log="$WORK/fastapi$1.log"
    FASTAPI_PORT="$(bench_free_port)"
    bench_start "$log" env BENCH_BODY_DIR="$BODIES" PYTHONPATH="$HERE" "$BENCH_PY" -m uvicorn \
        fastapi_app:app --host 127.0.0.1 --port "$FASTAPI_PORT" --workers "$1" \
        --log-level warning --no-access-log
    bench_wait_http "$BENCH_LAST_PID" "http://127.0.0.1:$FASTAPI_PORT/health" 30 ||
        { bench_show_log "$log"; bench_die "uvicorn ($1 workers) did not start"; }
    bench_log "uvicorn ($1 workers) pid $BENCH_LAST_PID on port $FASTAPI_PORT"
}
start_fastapi 1; FASTAPI1_PORT="$FASTAPI_PORT"
FASTAPI2_PORT=""
if [ "$FASTAPI2" = 1 ]; then start_fastapi 2; FASTAPI2_PORT="$FASTAPI_PORT"; fi

declare -A BASE=([agentd]="$AGENTD_URL" [nginx]="http://127.0.0.1:$NGINX_PORT"
                 [fastapi1]="http://127.0.0.1:$FASTAPI1_PORT")
SERVERS=(agentd nginx fastapi1)
if [ -n "$FASTAPI2_PORT" ]; then BASE[fastapi2]="http://127.0.0.1:$FASTAPI2_PORT"; SERVERS+=(fastapi2); fi
declare -A PATHS=([health]="/health" [sessions]="$SESSIONS_PATH")

# Every server must send the very bytes agentd sent.
for sv in nginx fastapi1 fastapi2; do
    [ -n "${BASE[$sv]:-}" ] || continue
    for ep in health sessions; do
        "$BENCH_PY" "$REPO/bench/lib/http_get.py" --out "$WORK/check" "${BASE[$sv]}${PATHS[$ep]}" >/dev/null ||
            bench_die "$sv: GET ${PATHS[$ep]} did not answer 200"
        cmp -s "$WORK/check" "$BODIES/$ep.json" || bench_die "$sv: GET ${PATHS[$ep]} bytes differ from agentd's"
    done
done

# ---- load ----------------------------------------------------------------
ERRORS=0
for ep in health sessions; do
    for sv in "${SERVERS[@]}"; do
        url="${BASE[$sv]}${PATHS[$ep]}"
        bench_log "wrk $sv $ep: ${WARMUP}s warm-up + ${DURATION}s"
        bench_fg timeout $((WARMUP + 30)) "$WRK" -t"$THREADS" -c"$CONNS" -d"${WARMUP}s" \
            -H "X-User-ID: $USER_ID" "$url" >"$RAW/$sv-$ep.warmup.txt" 2>&1 || true
        if ! bench_fg timeout $((DURATION + 30)) "$WRK" -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency \
                -H "X-User-ID: $USER_ID" "$url" >"$RAW/$sv-$ep.txt" 2>&1; then
            bench_log "ERROR: wrk against $sv $ep failed:"; cat "$RAW/$sv-$ep.txt" >&2
            ERRORS=$((ERRORS + 1)); continue
        fi
        if ! "$BENCH_PY" "$REPO/bench/lib/wrk_parse.py" "$RAW/$sv-$ep.txt" >"$RAW/$sv-$ep.json"; then
            cat "$RAW/$sv-$ep.txt" >&2; ERRORS=$((ERRORS + 1)); rm -f "$RAW/$sv-$ep.json"; continue
        fi
        if grep -q '"non_2xx": [1-9]' "$RAW/$sv-$ep.json"; then
            bench_log "ERROR: $sv answered non-2xx under load on $ep"; ERRORS=$((ERRORS + 1))
        fi
        bench_log "  $(cat "$RAW/$sv-$ep.json")"
    done
    bench_alive "$AGENTD_PID" || bench_die "agentd died under load (see $WORK/agentd.log)"
done

sleep 2
RSS_LOAD_RSS="$(bench_rss_kb "$AGENTD_PID" VmRSS)"
RSS_LOAD_HWM="$(bench_rss_kb "$AGENTD_PID" VmHWM)"
bench_log "agentd idle RSS after load: ${RSS_LOAD_RSS} kB (peak ${RSS_LOAD_HWM} kB)"

# ---- report --------------------------------------------------------------
AGENTD_VERSION="$(timeout 5 "$BIN" --version 2>/dev/null | head -n1 || true)"
COMMIT="$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo none)"
[ -z "$(git -C "$REPO" status --porcelain 2>/dev/null | head -n1)" ] || COMMIT="$COMMIT+dirty"
VERSIONS="$("$NGINX" -v 2>&1 | sed 's|.*/||;s|^|nginx |'), $("$WRK" -v 2>&1 | head -n1 | awk '{print $1, $2}'), \
$("$BENCH_PY" -c 'import sys, fastapi, uvicorn, h11; print("python %d.%d.%d" % sys.version_info[:3], "fastapi", fastapi.__version__, "uvicorn", uvicorn.__version__, "(h11, asyncio loop)")')"
BASE_NAME="foundation-$DATE"
RESULTS="$OUT_DIR/$BASE_NAME.json"
export RAW BIN DATE DURATION WARMUP THREADS CONNS N_SESSIONS N_MESSAGES TEXT_BYTES AGENTD_VERSION \
    COMMIT VERSIONS RSS_START_RSS RSS_START_HWM RSS_LOAD_RSS RSS_LOAD_HWM BODIES
"$BENCH_PY" - "$RESULTS" <<'PY'
import glob, json, os, platform, sys
e = os.environ
runs = {}
for p in sorted(glob.glob(os.path.join(e["RAW"], "*.json"))):
    sv, ep = os.path.basename(p)[:-5].split("-", 1)
    runs[f"{sv}/{ep}"] = json.load(open(p))
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
mem_kb = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal"))
res = {
    "meta": {
        "date": e["DATE"], "binary": e["BIN"], "agentd_version": e["AGENTD_VERSION"] or "",
        "commit": e["COMMIT"], "cpus": os.cpu_count(), "cpu_model": cpu,
        "mem": f"{mem_kb / 1024 / 1024:.0f} GiB RAM", "kernel": platform.release(),
        "duration": int(e["DURATION"]), "warmup": int(e["WARMUP"]), "threads": int(e["THREADS"]),
        "connections": int(e["CONNS"]), "sessions": int(e["N_SESSIONS"]),
        "messages": int(e["N_MESSAGES"]), "text_bytes": int(e["TEXT_BYTES"]),
        "bytes_health": os.path.getsize(os.path.join(e["BODIES"], "health.json")),
        "bytes_sessions": os.path.getsize(os.path.join(e["BODIES"], "sessions.json")),
        "versions": e["VERSIONS"],
    },
    "rss_kb": {
        "start": {"VmRSS": int(e["RSS_START_RSS"]), "VmHWM": int(e["RSS_START_HWM"])},
        "after_load": {"VmRSS": int(e["RSS_LOAD_RSS"]), "VmHWM": int(e["RSS_LOAD_HWM"])},
    },
    "runs": runs,
}
json.dump(res, open(sys.argv[1], "w"), indent=1)
PY
mkdir -p "$OUT_DIR/$BASE_NAME-raw"
cp "$RAW"/*.txt "$OUT_DIR/$BASE_NAME-raw/" 2>/dev/null || true
echo
"$BENCH_PY" "$HERE/report.py" "$RESULTS" "$OUT_DIR/$BASE_NAME.md"
bench_log "report: $OUT_DIR/$BASE_NAME.md (numbers: $RESULTS, wrk output: $OUT_DIR/$BASE_NAME-raw/)"
if [ "$ERRORS" -gt 0 ]; then
    bench_log "$ERRORS measurement(s) could not run cleanly"
    exit 1
fi
exit 0
