#!/usr/bin/python3
"""A stand-in for agentd that only lets the benchmark test itself (selftest.sh).

Implements just what bench/foundation/run.sh touches: `serve --host --port
--data-dir --port-file`, POST /agent/, POST /sessions/, GET /health,
GET /sessions/?agent_id=, with the X-User-ID rules, state in
<data-dir>/agentd.db (including the messages table the benchmark seeds).
Its numbers mean nothing.
"""
import argparse
import json
import signal
import sqlite3
import sys
import threading
import uuid
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

HEALTH = {"status": "ok", "version": "0.0.0-fake", "components": {
    k: "ok" for k in ("storage", "message_bus", "workspace_manager", "background_task_manager",
                      "chat_run_registry", "scheduler_manager", "resource_access_service",
                      "chat_service", "session_service")} | {
    "mcp_hubs": "disabled", "skill_hubs": "disabled", "knowledge_base": "disabled"}}

SCHEMA = """
CREATE TABLE IF NOT EXISTS agents(id TEXT PRIMARY KEY, user_id TEXT NOT NULL, name TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions(id TEXT PRIMARY KEY, user_id TEXT NOT NULL,
    agent_id TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS messages(session_id TEXT NOT NULL, seq INTEGER NOT NULL,
    msg_id TEXT NOT NULL, created_at TEXT NOT NULL, payload TEXT NOT NULL,
    PRIMARY KEY(session_id, seq));
"""


def session_view(sid, user, agent_id, created):
    return {"session": {
        "id": sid, "updated_at": created, "created_at": created, "user_id": user,
        "agent_id": agent_id, "source": "user", "source_schedule_id": None,
        "source_chat_id": None, "source_channel_id": None, "team_id": None,
        "config": {"workspace_id": "0" * 16, "name": created[:19].replace("T", " "), "cwd": None,
                   "chat_model_config": None, "fallback_chat_model_config": None,
                   "tts_model_config": None, "knowledge_config": None},
        "state": {"session_id": sid, "summary": "", "context": [],
                  "reply_context": {"reply_id": sid, "cur_iter": 0, "structured_schema": None,
                                    "structured_output": None},
                  "permission_context": {"mode": "default", "working_directories": {},
                                         "allow_rules": {}, "deny_rules": {}, "ask_rules": {}},
                  "tool_context": {"max_cache_files": 100, "max_cache_bytes": 25000.0,
                                   "read_file_cache": [], "activated_groups": []},
                  "tasks_context": {"tasks": []}, "middle_context": {}}},
        "is_running": False, "status": "idle", "team": None}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = 1 << 16  # one write per response (flushed by handle_one_request)
    db: sqlite3.Connection
    lock = threading.Lock()

    def log_message(self, *args):
        pass

    def send_json(self, status, obj):
        body = json.dumps(obj, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def user(self):
        u = self.headers.get("X-User-ID")
        if u is None:
            self.send_json(422, {"detail": [{"type": "missing", "loc": ["header", "x-user-id"],
                                             "msg": "Field required", "input": None}]})
        elif u == "":
            self.send_json(401, {"detail": "X-User-ID header is required."})
        return u or None

    def do_GET(self):
        u = urlsplit(self.path)
        user = self.user()
        if user is None:
            return
        if u.path == "/health":
            return self.send_json(200, HEALTH)
        if u.path == "/sessions/":
            agent_id = parse_qs(u.query).get("agent_id", [""])[0]
            with self.lock:
                rows = self.db.execute(
                    "SELECT id, agent_id, created_at FROM sessions WHERE user_id=? AND agent_id=? "
                    "ORDER BY created_at DESC", (user, agent_id)).fetchall()
            views = [session_view(r[0], user, r[1], r[2]) for r in rows]
            return self.send_json(200, {"sessions": views, "total": len(views)})
        self.send_json(404, {"detail": "Not Found"})

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(n) or b"{}")
        user = self.user()
        if user is None:
            return
        new_id = uuid.uuid4().hex
        now = datetime.now().isoformat(timespec="microseconds")
        with self.lock:
            if self.path == "/agent/":
                self.db.execute("INSERT INTO agents VALUES (?,?,?)", (new_id, user, body["name"]))
                return self.send_json(201, {"agent_id": new_id})
            if self.path == "/sessions/":
                self.db.execute("INSERT INTO sessions VALUES (?,?,?,?)",
                                (new_id, user, body["agent_id"], now))
                return self.send_json(201, {"session_id": new_id})
        self.send_json(404, {"detail": "Not Found"})


def main():
    if sys.argv[1:2] == ["--version"]:
        print("fake_agentd (benchmark self-test)")
        return 0
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["serve"])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--port-file")
    a = ap.parse_args()
    db = sqlite3.connect(f"{a.data_dir}/agentd.db", check_same_thread=False,
                         isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(SCHEMA)
    Handler.db = db
    srv = ThreadingHTTPServer((a.host, a.port), Handler)
    srv.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=srv.shutdown).start())
    if a.port_file:
        with open(a.port_file + ".tmp", "w") as f:
            f.write(f"{srv.server_address[1]}\n")
        import os
        os.replace(a.port_file + ".tmp", a.port_file)
    srv.serve_forever()
    srv.server_close()
    db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
