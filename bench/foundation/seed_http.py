"""Create the benchmark's agent and sessions through agentd's HTTP API.

usage: seed_http.py BASE_URL SESSIONS_FILE [--sessions N] [--user ID]

POST /agent/ {"name":"bench"} -> 201 {"agent_id"}, then N x POST /sessions/
{"agent_id"} -> 201 {"session_id"}, on one keep-alive connection. Writes the
session ids to SESSIONS_FILE (one a line) and prints the agent id.
"""
import argparse
import http.client
import json
import sys
import urllib.parse


class Seeder:
    def __init__(self, base: str, user: str):
        u = urllib.parse.urlsplit(base)
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        self.user = user

    def post(self, path: str, body: dict, key: str) -> str:
        self.conn.request("POST", path, body=json.dumps(body).encode(),
                          headers={"X-User-ID": self.user,
                                   "Content-Type": "application/json"})
        resp = self.conn.getresponse()
        data = resp.read()
        if resp.status != 201:
            raise SystemExit(f"seed_http: POST {path} {json.dumps(body)} -> "
                             f"{resp.status}, expected 201: {data[:300]!r}")
        try:
            return json.loads(data)[key]
        except (ValueError, KeyError, TypeError):
            raise SystemExit(f"seed_http: POST {path} -> 201 without '{key}': {data[:300]!r}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("base_url")
    ap.add_argument("sessions_file")
    ap.add_argument("--sessions", type=int, default=100)
    ap.add_argument("--user", default="bench")
    a = ap.parse_args()

    s = Seeder(a.base_url, a.user)
    agent_id = s.post("/agent/", {"name": "bench"}, "agent_id")
    ids = [s.post("/sessions/", {"agent_id": agent_id}, "session_id")
           for _ in range(a.sessions)]
    if len(set(ids)) != len(ids):
        raise SystemExit("seed_http: POST /sessions/ returned duplicate session ids")
    with open(a.sessions_file, "w") as f:
        f.write("\n".join(ids) + "\n")
    print(agent_id)
    return 0


if __name__ == "__main__":
    sys.exit(main())
