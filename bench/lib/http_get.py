"""GET one URL and optionally save the exact body bytes.

usage: http_get.py [--user ID] [--out FILE] [--expect STATUS] [--quiet] URL

Prints "<status> <content-type> <body length>" and exits 0 when the status is
the expected one (default 200), 1 otherwise (2 when nothing answered).
"""
import argparse
import http.client
import sys
import urllib.parse


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--user", default="bench", help="X-User-ID value")
    ap.add_argument("--out", help="write the response body here, byte for byte")
    ap.add_argument("--expect", type=int, default=200)
    ap.add_argument("--timeout", type=float, default=5.0)
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args()

    u = urllib.parse.urlsplit(a.url)
    path = (u.path or "/") + (("?" + u.query) if u.query else "")
    try:
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=a.timeout)
        conn.request("GET", path, headers={"X-User-ID": a.user})
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
    except OSError as e:
        if not a.quiet:
            print(f"GET {a.url}: {e}", file=sys.stderr)
        return 2
    if a.out:
        with open(a.out, "wb") as f:
            f.write(body)
    print(resp.status, resp.getheader("Content-Type", "-"), len(body))
    if resp.status != a.expect:
        if not a.quiet:
            print(f"GET {a.url}: status {resp.status}, expected {a.expect}: "
                  f"{body[:300]!r}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
