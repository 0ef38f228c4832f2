"""Print the foundation benchmark's Markdown report and PASS/FAIL per target.

usage: report.py RESULTS_JSON OUT_MD

RESULTS_JSON is written by run.sh: {"meta": {...}, "rss_kb": {...},
"runs": {"<server>/<endpoint>": <wrk_parse.py object>}}. Prints the report and
writes the same text to OUT_MD. Exit status 0 whether targets pass or fail.
"""
import json
import sys

ENDPOINTS = [("health", "GET /health"), ("sessions", "GET /sessions/?agent_id=")]
SERVERS = [("agentd", "agentd"), ("nginx", "nginx (static, same bytes)"),
           ("fastapi1", "FastAPI + uvicorn, 1 worker"),
           ("fastapi2", "FastAPI + uvicorn, 2 workers")]
RSS_LIMIT_KB = 50 * 1024  # 50 MiB


def fmt_rps(x):
    return f"{x:,.0f}" if x is not None else "n/a"


def fmt_ms(x):
    return f"{x:.2f}" if x is not None else "n/a"


def main() -> int:
    with open(sys.argv[1]) as f:
        res = json.load(f)
    runs, meta, rss = res["runs"], res["meta"], res["rss_kb"]
    out = []
    w = out.append

    w(f"# Foundation benchmark, {meta['date']}")
    w("")
    w(f"- machine: {meta['cpus']} CPUs ({meta['cpu_model']}), {meta['mem']}, kernel {meta['kernel']}")
    version = meta["agentd_version"] or "(no --version output)"
    w(f"- agentd: `{meta['binary']}` {version}, source commit {meta['commit']}")
    w(f"- load: `wrk -t{meta['threads']} -c{meta['connections']} -d{meta['duration']}s --latency "
      f"-H 'X-User-ID: bench'` after a {meta['warmup']} s warm-up, on the same machine as the server")
    w(f"- data: {meta['sessions']} sessions, {meta['messages']} messages of ~{meta['text_bytes']} B "
      "of text each "
      f"(≈{meta['messages'] * meta['text_bytes'] / 1e6:.1f} MB of conversation per session)")
    w(f"- response sizes: /health {meta['bytes_health']} B, /sessions/ {meta['bytes_sessions']} B "
      "(identical bytes from every server)")
    w(f"- versions: {meta['versions']}")
    w("")
    w("| Endpoint | Server | Requests/s | p50 ms | p99 ms | errors |")
    w("|---|---|---:|---:|---:|---:|")
    for ep, ep_name in ENDPOINTS:
        for sv, sv_name in SERVERS:
            r = runs.get(f"{sv}/{ep}")
            if r is None:
                continue
            errors = r.get("non_2xx", 0) + r.get("socket_errors", 0)
            w(f"| {ep_name} | {sv_name} | {fmt_rps(r['rps'])} | {fmt_ms(r['p50_ms'])} | "
              f"{fmt_ms(r['p99_ms'])} | {errors} |")
    w("")
    w("| agentd memory | VmRSS | VmHWM (peak) |")
    w("|---|---:|---:|")
    for key, name in (("start", "idle, after start (before load)"),
                      ("after_load", "idle, after load")):
        r = rss.get(key, {})
        w(f"| {name} | {r.get('VmRSS', 'n/a')} kB | {r.get('VmHWM', 'n/a')} kB |")
    w("")

    def rps(sv, ep):
        r = runs.get(f"{sv}/{ep}")
        return r["rps"] if r else None

    checks = []

    def ratio_check(name, sv, ep, factor):
        a, b = rps("agentd", ep), rps(sv, ep)
        if a is None or b is None or b == 0:
            checks.append((name, "n/a", None))
            return
        checks.append((name, f"{a / b:.2f}x", a >= factor * b))

    ratio_check("agentd ≥ 50% of nginx, /health", "nginx", "health", 0.5)
    ratio_check("agentd ≥ 50% of nginx, /sessions/", "nginx", "sessions", 0.5)
    ratio_check("agentd ≥ 10x FastAPI (1 worker), /health", "fastapi1", "health", 10)
    ratio_check("agentd ≥ 3x FastAPI (1 worker), /sessions/", "fastapi1", "sessions", 3)
    for ep, ep_name in ENDPOINTS:
        r = runs.get(f"agentd/{ep}")
        p99 = r["p99_ms"] if r else None
        checks.append((f"agentd p99 < 5 ms, {ep_name.split('?')[0][4:]}",
                       f"{fmt_ms(p99)} ms", None if p99 is None else p99 < 5.0))
    for key, name in (("start", "after start"), ("after_load", "after load")):
        kb = rss.get(key, {}).get("VmRSS")
        checks.append((f"agentd idle RSS < 50 MiB, {name}",
                       f"{kb / 1024:.1f} MiB" if kb else "n/a",
                       None if kb is None else kb < RSS_LIMIT_KB))

    w("| Target | Measured | Result |")
    w("|---|---:|---|")
    for name, measured, ok in checks:
        w(f"| {name} | {measured} | {'n/a' if ok is None else ('PASS' if ok else 'FAIL')} |")
    if all(rps(sv, ep) for sv in ("agentd", "fastapi2") for ep in ("health", "sessions")):
        w("")
        w(f"For reference, against FastAPI with 2 workers: /health "
          f"{rps('agentd', 'health') / rps('fastapi2', 'health'):.2f}x, /sessions/ "
          f"{rps('agentd', 'sessions') / rps('fastapi2', 'sessions'):.2f}x.")
    failed = sum(1 for c in checks if c[2] is False)
    w("")
    w(f"{len(checks) - failed}/{len(checks)} targets met.")

    text = "\n".join(out) + "\n"
    sys.stdout.write(text)
    with open(sys.argv[2], "w") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
