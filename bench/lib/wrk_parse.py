"""Turn the text wrk prints (with --latency) into one JSON object.

usage: wrk_parse.py WRK_OUTPUT_FILE  ->  JSON on stdout

Keys: rps, p50_ms, p75_ms, p90_ms, p99_ms, avg_ms, requests, transfer_per_s,
non_2xx, socket_errors (connect+read+write+timeout). Exits 1 if the file does
not look like a finished wrk run.
"""
import json
import re
import sys

_UNIT_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([0-9.]+)(us|ms|s|m|h)", text.strip())
    if not m:
        raise ValueError(f"unknown latency value {text!r}")
    return float(m.group(1)) * _UNIT_MS[m.group(2)]


def parse(out: str) -> dict:
    r = {}
    m = re.search(r"^Requests/sec:\s+([0-9.]+)", out, re.M)
    if not m:
        raise ValueError("no 'Requests/sec' line")
    r["rps"] = float(m.group(1))
    m = re.search(r"^\s*Latency\s+(\S+)\s+(\S+)\s+(\S+)", out, re.M)
    if m:
        r["avg_ms"] = _ms(m.group(1))
    for pct in ("50", "75", "90", "99"):
        m = re.search(rf"^\s+{pct}%\s+(\S+)", out, re.M)
        if not m:
            raise ValueError(f"no {pct}% latency line (was --latency given?)")
        r[f"p{pct}_ms"] = _ms(m.group(1))
    m = re.search(r"^\s*(\d+) requests in", out, re.M)
    r["requests"] = int(m.group(1)) if m else None
    m = re.search(r"^Transfer/sec:\s+(\S+)", out, re.M)
    r["transfer_per_s"] = m.group(1) if m else None
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    r["non_2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    r["socket_errors"] = sum(int(x) for x in m.groups()) if m else 0
    return r


def main() -> int:
    with open(sys.argv[1], encoding="utf-8", errors="replace") as f:
        out = f.read()
    try:
        print(json.dumps(parse(out)))
    except ValueError as e:
        print(f"wrk_parse: {sys.argv[1]}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
