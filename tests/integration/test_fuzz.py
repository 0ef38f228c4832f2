"""Seeded mutation fuzzing of every route that takes a body, a path id or a query.

The hand-written hostile cases (cases/hostile.json, test_limits.py) pin the exact error
JSON of known inputs; this module throws a few thousand mutated ones at the server, with
chat runs really going against the fake provider meanwhile, and checks only what must hold
for any input: no 5xx, an error is the reference's JSON (`{"detail": ...}`), nothing of one
tenant shows up for another, and what was stored still reads back whole. The seed is fixed,
so a failure repeats; AGENTD_FUZZ_SEED and AGENTD_FUZZ_REQUESTS change the run.
"""

import json
import os
import random
import urllib.parse

from lib import http
from lib.checks import check, expect_status
from lib.sse import CHAT_SERVER_ARGS

SEED = int(os.environ.get("AGENTD_FUZZ_SEED", "20261207"))
REQUESTS = int(os.environ.get("AGENTD_FUZZ_REQUESTS", "2500"))
USER, OTHER = "fuzz-user", "fuzz-other"

WEIRD = [None, True, False, -1, 0, 1e308, 10 ** 40, 3.5, "", "x" * 70000, "\u0000",
         "\ud7ff\U0001F600", "'; DROP TABLE sessions;--", "../../etc/passwd", "%00", "null",
         [], {}, [[[]]], {"a": {"b": []}}, [None] * 50]


class Fuzzer:
    def __init__(self, rnd, ids):
        self.rnd, self.ids = rnd, ids

    def sub(self, x):
        if isinstance(x, str):
            for k, v in self.ids.items():
                x = x.replace("{" + k + "}", v)
            return x
        if isinstance(x, dict):
            return {k: self.sub(v) for k, v in x.items()}
        if isinstance(x, list):
            return [self.sub(v) for v in x]
        return x

    def mutate(self, v):
        rnd = self.rnd
        if rnd.random() < 0.25:
            return rnd.choice(WEIRD)
        if isinstance(v, dict):
            v = dict(v)
            if v and rnd.random() < 0.3:
                del v[rnd.choice(list(v))]
            if rnd.random() < 0.3:
                v[rnd.choice(["type", "role", "content", "x", "", "\u0000"])] = rnd.choice(WEIRD)
            for k in list(v):
                if rnd.random() < 0.4:
                    v[k] = self.mutate(v[k])
            return v
        if isinstance(v, list):
            v = [self.mutate(e) if rnd.random() < 0.5 else e for e in v]
            return v * rnd.randint(2, 4) if rnd.random() < 0.2 else v
        return v

    def mangle(self, raw):
        """Byte-level damage: cut, flipped bytes, deep nesting, bad escapes and numbers."""
        rnd, b = self.rnd, bytearray(raw)
        for _ in range(rnd.randint(1, 4)):
            i = rnd.randrange(len(b) + 1)
            op = rnd.random()
            if op < 0.3 and b:
                del b[i % len(b)]
            elif op < 0.55:
                b[i:i] = bytes([rnd.randrange(256)])
            elif op < 0.75:
                b = b[:i]
            else:
                b[i:i] = rnd.choice([b"[" * 5000, b'{"a":' * 3000, b"\xff\xfe", b"\\ud800",
                                     b"1e99999", b'"\\u0000"'])
        return bytes(b)


def _bodies(ids):
    model = {"type": "openai_credential", "credential_id": "{C}", "model": "gpt-4o", "parameters": {}}
    message = {"role": "user", "name": "u", "content": [{"type": "text", "text": "hi"}]}
    return [
        ("POST", "/agent/", {"name": "n", "system_prompt": "p", "description": "d"}),
        ("PATCH", "/agent/{A}", {"name": "n2", "system_prompt": "q"}),
        ("POST", "/credential/", {"data": {"type": "openai_credential", "api_key": "sk-y"}}),
        ("PATCH", "/credential/{C}", {"data": {"type": "openai_credential", "api_key": "sk-z"}}),
        ("POST", "/sessions/", {"agent_id": "{A}", "chat_model_config": model, "name": "s"}),
        ("PATCH", "/sessions/{S}?agent_id={A}", {"name": "x", "chat_model_config": model,
                                                  "permission_mode": "default"}),
        ("POST", "/chat/", {"agent_id": "{A}", "session_id": "{S}", "input": message}),
        ("POST", "/chat/", {"agent_id": "{A}", "session_id": "{S}", "input": [message, message]}),
        ("POST", "/chat/", {"agent_id": "{A}", "session_id": "{S}", "input": {"role": "user", "name": "u", "content": [
            {"type": "text", "text": "look"},
            {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
            {"type": "audio", "source": {"type": "base64", "media_type": "audio/wav", "data": "UklGRg=="}},
            {"type": "data", "source": {"type": "url", "url": "file:///etc/passwd", "media_type": "text/plain"}}]}}),
        ("POST", "/chat/", {"agent_id": "{A}", "session_id": "{S}", "input": {
            "type": "USER_CONFIRM_RESULT", "reply_id": "r1", "confirm_results": [
                {"confirmed": True, "tool_call": {"type": "tool_call", "id": "c1", "name": "debug_guarded",
                                                  "input": "{}"}, "rules": None}]}}),
        ("POST", "/chat/", {"agent_id": "{A}", "session_id": "{S}", "input": {
            "type": "EXTERNAL_EXECUTION_RESULT", "reply_id": "r1", "execution_results": [
                {"type": "tool_result", "id": "c1", "name": "debug_external", "output": "42", "state": "success",
                 "metadata": {}}]}}),
        ("POST", "/chat/", {"agent_id": "{A}", "session_id": "{S}", "input": None}),
        ("POST", "/sessions/{S}/interrupt?agent_id={A}", None),
        ("POST", "/workspace/files/download-token", {"agent_id": "{A}", "session_id": "{S}", "path": "a.txt"}),
    ]


GETS = ["/agent/", "/credential/", "/sessions/?agent_id={A}", "/sessions/{S}/messages?agent_id={A}&limit=5",
        "/sessions/{S}/status?agent_id={A}", "/model/?provider=openai",
        "/workspace/directories?agent_id={A}&session_id={S}", "/workspace/status?agent_id={A}&session_id={S}",
        "/workspace/files?agent_id={A}&session_id={S}&path=."]
CONTENT_TYPE_NOISE = [None, "", "text/plain", "application/x-www-form-urlencoded", "APPLICATION/JSON",
                      "application/json; charset=latin-1", "application/vnd.agentd+json", "application/jsonp",
                      "multipart/form-data; boundary=x", "json", "\xe9/\xff"]
QUERY_NOISE = ["&limit=-1", "&limit=abc", "&before=zzz", "&limit=100000", "&path=../..", "&agent_id=",
               "&limit=1e9", "&before=%00"]
ID_NOISE = ["{A}x", "%2e%2e", "%00", urllib.parse.quote("\u00e9" * 50), "{S}", "0" * 16, "x" * 3000, "%ff"]


def _expect_error_shape(resp, what):
    """A 4xx carries the reference's error JSON: an object with `detail`."""
    if resp.status < 400:
        return
    try:
        doc = json.loads(resp.body)
    except ValueError:
        check(False, f"{what}: {resp.status} without a JSON body: {resp.body[:200]!r}")
    check(isinstance(doc, dict) and "detail" in doc, f"{what}: {resp.status} body is not the error JSON: {doc!r:.200}")


def test_mutated_requests_get_clear_errors_and_lose_nothing(srv):
    reason = srv.ensure_args(CHAT_SERVER_ARGS)
    check(reason is None, f"restarting with {CHAT_SERVER_ARGS}: {reason}")
    fake = srv.fake_provider()
    fake.reset()
    fake.set_script({"responses": [], "default": {"text": "fuzzed answer"}})
    r = srv.post("/credential/", json={"data": {"type": "openai_credential", "api_key": "sk-fuzz",
                                                "base_url": fake.url + "/v1"}}, user=USER)
    ids = {"C": expect_status(r, 201, "credential").json()["credential_id"]}
    ids["A"] = expect_status(srv.post("/agent/", json={"name": "fuzz", "system_prompt": "p"}, user=USER),
                             201, "agent").json()["agent_id"]
    body = {"agent_id": ids["A"], "chat_model_config": {"type": "openai_credential", "credential_id": ids["C"],
                                                         "model": "gpt-4o", "parameters": {}}}
    ids["S"] = expect_status(srv.post("/sessions/", json=body, user=USER), 201, "session").json()["session_id"]
    # The other tenant's own agent: fuzzed requests under its name must never reach the first's data.
    other_agent = expect_status(srv.post("/agent/", json={"name": "other"}, user=OTHER), 201,
                                "other agent").json()["agent_id"]

    rnd = random.Random(SEED)
    fz = Fuzzer(rnd, ids)
    bodies = _bodies(ids)
    statuses = {}
    for n in range(REQUESTS):
        user = rnd.choice([USER] * 8 + [OTHER, "", None, "u" * 300])
        raw = None
        if rnd.random() < 0.25:
            method, path, doc = "GET", fz.sub(rnd.choice(GETS)), None
            if rnd.random() < 0.4:
                path = path.replace(ids["A"], fz.sub(rnd.choice(ID_NOISE)), 1)
            if rnd.random() < 0.3:
                path += rnd.choice(QUERY_NOISE)
        else:
            method, path, doc = rnd.choice(bodies)
            path, doc = fz.sub(path), fz.sub(doc)
            if rnd.random() < 0.1:
                path = path.replace(ids["S"], fz.sub(rnd.choice(ID_NOISE)), 1)
            if doc is not None:
                if rnd.random() < 0.3:
                    raw = fz.mangle(json.dumps(doc).encode())
                else:
                    doc = fz.mutate(doc)
        if raw is None and doc is not None:
            try:
                raw = json.dumps(doc, ensure_ascii=False).encode("utf-8", "surrogatepass")
            except (TypeError, ValueError):
                continue
        headers = {"X-User-ID": user} if user is not None else {}
        if raw is not None:
            headers["Content-Type"] = "application/json"
            if rnd.random() < 0.08:  # bodies of other declared types are validated as text
                content_type = rnd.choice(CONTENT_TYPE_NOISE)
                if content_type is None:
                    del headers["Content-Type"]
                else:
                    headers["Content-Type"] = content_type
        what = f"request {n}: {method} {path[:120]} as {user!r:.20} with {raw[:160] if raw else None!r}"
        try:
            resp = http.request(srv.host, srv.port, method, path, body=raw, headers=headers, timeout=30)
        except OSError as e:
            check(False, f"{what}: no answer ({e!r})")
        check(resp.status < 500, f"{what}: HTTP {resp.status} {resp.body[:300]!r}")
        _expect_error_shape(resp, what)
        statuses[resp.status] = statuses.get(resp.status, 0) + 1
    print(f"fuzz statuses: {sorted(statuses.items())}")
    # Mutations must also have been accepted sometimes, or the fuzzer only tested the parser.
    check(statuses.get(200, 0) + statuses.get(201, 0) > REQUESTS // 20, f"few requests got through: {statuses}")
    check(sum(v for k, v in statuses.items() if k >= 400) > REQUESTS // 5, f"few were refused: {statuses}")

    # The stream's resume point comes from a header (or ?last_event_id=): a bad one is a 422
    # that echoes it, a good one opens the stream; only the head is read here.
    for n in range(60):
        value = rnd.choice(["abc", "-1", "1-2-3", "\xff\xfe", "9" * 40 + "-0", "0-18446744073709551616",
                            "1-0", "", " 5-0 ", "\u00e9"]) + rnd.choice(["", "x", "\x80"])
        use_query = rnd.random() < 0.3
        path = f"/sessions/{ids['S']}/stream?agent_id={urllib.parse.quote(ids['A'])}"
        head = [f"GET {path}{'&last_event_id=' + urllib.parse.quote(value.encode('latin-1')) if use_query else ''} HTTP/1.1",
                f"Host: {srv.host}:{srv.port}", f"X-User-ID: {USER}"]
        if not use_query:
            head.append(f"Last-Event-ID: {value}")
        what = f"stream {n}: {head[0][:100]} Last-Event-ID {value!r}"
        sock = http.connect(srv.host, srv.port)
        try:
            sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
            reader = http.ResponseReader(sock)
            resp = reader.read(head=True)
            check(resp is not None and resp.status in (200, 422), f"{what}: {resp.status if resp else 'no answer'}")
            if resp.status == 422:
                resp.body = reader._read_exact(int(resp.header("content-length")))
                _expect_error_shape(resp, what)
            else:
                check((resp.header("content-type") or "").startswith("text/event-stream"), f"{what}: not a stream")
        finally:
            sock.close()

    # Whatever was stored reads back whole, and only for its owner.
    check(srv.healthy() is None, "the server no longer answers /health")
    agents = expect_status(srv.get("/agent/", user=USER), 200, "agents after fuzzing").json()
    for a in agents.get("agents", agents if isinstance(agents, list) else []):
        aid = a.get("agent_id") or a.get("id")
        if not aid:
            continue
        sessions = expect_status(srv.get(f"/sessions/?agent_id={urllib.parse.quote(aid)}", user=USER), 200,
                                 f"sessions of {aid}").json()
        for s in sessions["sessions"]:
            sid = s["session"]["id"] if "id" in s["session"] else s["session"]["session_id"]
            q = f"agent_id={urllib.parse.quote(aid)}"
            expect_status(srv.get(f"/sessions/{sid}/messages?{q}&limit=200", user=USER), 200, f"messages of {sid}")
            r = srv.get(f"/sessions/{sid}/messages?{q}&limit=1", user=OTHER)
            check(r.status == 404, f"{OTHER} reads {USER}'s session {sid}: HTTP {r.status}")
    theirs = expect_status(srv.get("/agent/", user=OTHER), 200, "other's agents").json()
    listed = json.dumps(theirs)
    check(ids["A"] not in listed and other_agent in listed, f"{OTHER}'s agent list: {listed[:300]}")
    creds = json.dumps(expect_status(srv.get("/credential/", user=OTHER), 200, "other's credentials").json())
    check(ids["C"] not in creds and "sk-fuzz" not in creds, f"{OTHER} sees {USER}'s credential: {creds[:300]}")
