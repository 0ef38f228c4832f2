"""Server-sent events client and chat-run helpers for the chat tests (test_chat*.py).

``SSEClient`` reads ``GET /sessions/{id}/stream`` on a raw socket in a background
thread and keeps every frame (``id:`` / ``data:`` / comment lines, the raw text and
the parsed event). ``ChatEnv`` sets up one user's credential (pointing at the
server's fake LLM provider), agent and session for one wire format, and drives
runs: script the fake provider, open a stream, ``POST /chat/``, wait for the
reply's ``REPLY_END``.

Standard library only.
"""

import json
import socket
import threading
import time
import urllib.parse

from . import http

# Flags every chat test server runs with (lib.server.Server.ensure_args).
HEARTBEAT_MS = 300
CHAT_SERVER_ARGS = ["--debug-tools", "--sse-heartbeat-ms", str(HEARTBEAT_MS),
                    "--event-log-retention", "600"]

FORMATS = {
    "openai": {"type": "openai_credential", "path": "/v1", "model": "gpt-4.1-mini",
               "fallback_model": "gpt-4.1"},
    "anthropic": {"type": "anthropic_credential", "path": "", "model": "claude-sonnet-4-5",
                  "fallback_model": "claude-haiku-4-5"},
}

RUNTIME_STATE_SOURCE = '{"label": "System", "sublabel": "Runtime State"}'

ERROR_MESSAGES = {  # the reference's fixed sentences (app/_service/_errors.py)
    "authentication": "Authentication failed \u2014 check the model's API key / credential.",
    "permission": "Request not allowed \u2014 the credential lacks permission for this model or endpoint.",
    "rate_limit": "Rate limit or quota exceeded \u2014 try again later.",
    "invalid_request": "The request to the model was rejected as invalid.",
    "upstream": "The upstream model service returned an error.",
    "connection": "Could not reach the model service \u2014 network error or timeout.",
    "internal": "An unexpected internal error occurred.",
}


class Frame:
    """One SSE frame: ``id`` (str or None), ``data`` (str or None; data lines joined
    with \\n), ``comments`` (list of comment texts), ``raw`` (the frame text without
    the blank line), ``event`` (parsed data JSON or None) and ``t`` (arrival time)."""

    def __init__(self, raw, t):
        self.raw = raw
        self.t = t
        self.id = None
        self.data = None
        self.comments = []
        self.fields = []  # (name, value) in order, comments excluded
        data_lines = []
        for line in raw.split("\n"):
            if line.endswith("\r"):
                line = line[:-1]
            if line.startswith(":"):
                self.comments.append(line[1:])
                continue
            name, sep, value = line.partition(":")
            if sep and value.startswith(" "):
                value = value[1:]
            self.fields.append((name, value))
            if name == "id":
                self.id = value
            elif name == "data":
                data_lines.append(value)
        if data_lines:
            self.data = "\n".join(data_lines)
        self.event = None
        self.json_error = None
        if self.data is not None:
            try:
                self.event = json.loads(self.data)
            except ValueError as e:
                self.json_error = str(e)

    @property
    def is_heartbeat(self):
        return self.data is None and not self.fields

    @property
    def type(self):
        return self.event.get("type") if isinstance(self.event, dict) else None

    def __repr__(self):
        return f"Frame(id={self.id!r}, type={self.type!r})"


class SSEClient:
    """A streaming GET on its own socket, read by a daemon thread.

    After construction ``status`` and ``headers`` are known. For a 200 the body is
    parsed into ``frames`` as it arrives; otherwise ``body`` holds the error body.
    """

    def __init__(self, host, port, path, headers=None, timeout=10.0, wait_open=True):
        self.path = path
        self.lock = threading.Condition()
        self.frames = []
        self.closed = False  # the server ended the response / the socket closed
        self.error = None
        self.body = b""
        self.opened = False  # first body bytes received
        self._stop = False
        self._paused = False  # the reader thread leaves the socket unread (a stalled client)
        self.sock = http.connect(host, port, timeout)
        lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Accept: text/event-stream"]
        for k, v in (headers or {}).items():
            if v is not None:
                lines.append(f"{k}: {v}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("utf-8"))
        self.reader = http.ResponseReader(self.sock)
        head = self._read_head()
        self.status, self.headers = head
        te = (self.header("transfer-encoding") or "").lower()
        self.chunked = "chunked" in te
        if self.status != 200:
            cl = self.header("content-length")
            try:
                if self.chunked:
                    self.body = b"".join(iter(self._next_piece, None))
                elif cl is not None:
                    self.body = self.reader._read_exact(int(cl))
            except (EOFError, OSError):
                pass
            self.closed = True
            self.sock.close()
            return
        self.sock.settimeout(0.2)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        if wait_open:
            self.wait_opened(timeout)

    # -- reading ---------------------------------------------------------------
    def _read_head(self):
        status_line = self.reader._read_line().decode("latin-1")
        parts = status_line.split(" ", 2)
        status = int(parts[1])
        headers = []
        while True:
            line = self.reader._read_line().decode("latin-1")
            if not line:
                break
            name, _, value = line.partition(":")
            headers.append((name.strip(), value.strip()))
        return status, headers

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def _next_piece(self):
        """Blocking: the next body piece of a non-streamed (error) response."""
        if self.chunked:
            size_line = self.reader._read_line()
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                return None
            data = self.reader._read_exact(size)
            self.reader._read_line()
            return data
        if self.reader.buf:
            data, self.reader.buf = self.reader.buf, b""
            return data
        if not self.reader._fill():
            return None
        data, self.reader.buf = self.reader.buf, b""
        return data

    def _dechunk(self, raw):
        """Complete chunks of raw -> (body bytes, rest, ended)."""
        out = b""
        while True:
            nl = raw.find(b"\r\n")
            if nl < 0:
                return out, raw, False
            size = int(raw[:nl].split(b";")[0].strip() or b"0", 16)
            if size == 0:
                return out, b"", True
            if len(raw) < nl + 2 + size + 2:
                return out, raw, False
            out += raw[nl + 2:nl + 2 + size]
            raw = raw[nl + 2 + size + 2:]

    def _run(self):
        raw = self.reader.buf  # bytes read past the header block
        self.reader.buf = b""
        pending = b""
        try:
            while not self._stop:
                ended = False
                if self.chunked:
                    body, raw, ended = self._dechunk(raw)
                else:
                    body, raw = raw, b""
                if body:
                    pending += body.replace(b"\r\n", b"\n")
                    new = []
                    while b"\n\n" in pending:
                        piece, pending = pending.split(b"\n\n", 1)
                        new.append(Frame(piece.decode("utf-8", "replace"), time.monotonic()))
                    with self.lock:
                        self.opened = True
                        self.frames.extend(new)
                        self.lock.notify_all()
                if ended:
                    break
                if self._paused:
                    time.sleep(0.01)
                    continue
                try:
                    chunk = self.sock.recv(65536)
                except socket.timeout:
                    continue
                if not chunk:
                    break
                raw += chunk
        except (OSError, ValueError) as e:
            if not self._stop:
                self.error = f"{type(e).__name__}: {e}"
        finally:
            with self.lock:
                self.closed = True
                self.lock.notify_all()

    def pause(self, receive_buffer=None):
        """Stop reading the socket (optionally shrinking its receive buffer first),
        so that the server's writes to it back up."""
        if receive_buffer:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self._paused = True

    def resume(self):
        self._paused = False

    def close(self):
        self._stop = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass
        if getattr(self, "thread", None) is not None:
            self.thread.join(2)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- waiting ---------------------------------------------------------------
    def wait_opened(self, timeout=5.0):
        with self.lock:
            self.lock.wait_for(lambda: self.opened or self.closed, timeout)
            if not self.opened:
                raise AssertionError(f"stream {self.path}: no body bytes within {timeout}s"
                                     f" (closed={self.closed}, error={self.error})")

    def snapshot(self):
        with self.lock:
            return list(self.frames)

    def data_frames(self):
        return [f for f in self.snapshot() if f.data is not None]

    def events(self):
        return [f.event for f in self.data_frames()]

    def wait_frame(self, pred, timeout=8.0, what="a matching event", start=0):
        """Wait for a data frame at index >= start (among data frames) whose event
        satisfies pred; returns the Frame."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                data = [f for f in self.frames if f.data is not None]
                for f in data[start:]:
                    if isinstance(f.event, dict) and pred(f.event):
                        return f
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    types = [f.type for f in data][-12:]
                    raise AssertionError(
                        f"stream: {what} did not arrive within {timeout}s "
                        f"(closed={self.closed}, error={self.error}, last types {types})")
                self.lock.wait(min(left, 0.2))

    def wait_type(self, etype, timeout=8.0, **fields):
        def pred(e):
            return e.get("type") == etype and all(e.get(k) == v for k, v in fields.items())
        desc = etype + (f" {fields}" if fields else "")
        return self.wait_frame(pred, timeout, desc)

    def wait_data_count(self, n, timeout=8.0):
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                data = [f for f in self.frames if f.data is not None]
                if len(data) >= n:
                    return data
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    raise AssertionError(f"stream: {len(data)} data frames within {timeout}s, "
                                         f"expected {n} (closed={self.closed})")
                self.lock.wait(min(left, 0.2))


def check_frame_format(frame):
    """Agentd's SSE frame: `id: <id>` then `data: <one-line Python-style JSON>`; the
    event envelope starts with id, created_at, metadata, type. Raises AssertionError."""
    names = [n for n, _ in frame.fields]
    if names != ["id", "data"]:
        raise AssertionError(f"frame fields are {names}, expected ['id', 'data']: {frame.raw[:200]!r}")
    if not frame.id:
        raise AssertionError(f"frame has an empty id: {frame.raw[:200]!r}")
    if frame.json_error:
        raise AssertionError(f"frame data is not JSON ({frame.json_error}): {frame.raw[:200]!r}")
    ev = frame.event
    if not isinstance(ev, dict):
        raise AssertionError(f"frame data is not an object: {frame.raw[:200]!r}")
    pythonic = json.dumps(ev, ensure_ascii=False)
    if frame.data != pythonic and frame.data != json.dumps(ev):
        raise AssertionError("frame data is not json.dumps-style (', ' and ': ' separators): "
                             f"{frame.data[:200]!r}")
    keys = list(ev)
    if keys[:4] != ["id", "created_at", "metadata", "type"]:
        raise AssertionError(f"event keys start {keys[:4]}, expected id, created_at, metadata, type")


# ---------------------------------------------------------------------------
# Chat runs
# ---------------------------------------------------------------------------

def _check(cond, message):
    if not cond:
        raise AssertionError(message)


def _expect(resp, status, what):
    ok = resp.status in status if isinstance(status, (list, tuple)) else resp.status == status
    if not ok:
        raise AssertionError(f"{what}: expected status {status}, got {resp.describe()}")
    return resp


class Run:
    """The frames of one reply (REPLY_START .. REPLY_END) as seen on one stream."""

    def __init__(self, frames, reply_id):
        self.frames = frames
        self.reply_id = reply_id

    @property
    def events(self):
        return [f.event for f in self.frames]

    def types(self, include_custom=False):
        return [e["type"] for e in self.events if include_custom or e["type"] != "CUSTOM"]

    def of(self, etype):
        return [e for e in self.events if e["type"] == etype]

    def text(self, block_type="TEXT"):
        return "".join(e["delta"] for e in self.of(f"{block_type}_BLOCK_DELTA"))

    @property
    def end(self):
        ends = self.of("REPLY_END")
        return ends[-1] if ends else None


class ChatEnv:
    """One user's credential (-> the fake provider), agent and session, for one format."""

    def __init__(self, srv, fmt, user, fallback=False, system_prompt="You are a test agent.",
                 agent_name="Tester", api_key="k-test-123", model_config=True):
        reason = srv.ensure_args(CHAT_SERVER_ARGS)
        _check(reason is None, f"restarting the server with {CHAT_SERVER_ARGS}: {reason}")
        self.srv = srv
        self.fmt = fmt
        self.spec = FORMATS[fmt]
        self.user = user
        self.api_key = api_key
        self.system_prompt = system_prompt
        self.agent_name = agent_name
        self.fake = srv.fake_provider()
        self.fake.reset()
        r = srv.post("/credential/", json={"data": {
            "type": self.spec["type"], "api_key": api_key,
            "base_url": self.fake.url + self.spec["path"]}}, user=user)
        self.credential_id = _expect(r, 201, "create credential").json()["credential_id"]
        r = srv.post("/agent/", json={"name": agent_name, "system_prompt": system_prompt}, user=user)
        self.agent_id = _expect(r, 201, "create agent").json()["agent_id"]
        body = {"agent_id": self.agent_id}
        if model_config:
            body["chat_model_config"] = self.model_config(self.spec["model"])
        if fallback:
            body["fallback_chat_model_config"] = self.model_config(self.spec["fallback_model"])
        r = srv.post("/sessions/", json=body, user=user)
        self.session_id = _expect(r, 201, "create session").json()["session_id"]
        self.seen_replies = set()
        self.streams = []

    def model_config(self, model):
        return {"type": self.spec["type"], "credential_id": self.credential_id,
                "model": model, "parameters": {}}

    # -- plumbing ----------------------------------------------------------------
    def q(self, extra=""):
        return f"?agent_id={urllib.parse.quote(self.agent_id)}{extra}"

    def stream(self, last_event_id=None, query_last=None, wait_open=True):
        headers = {"X-User-ID": self.user}
        if last_event_id is not None:
            headers["Last-Event-ID"] = last_event_id
        extra = f"&last_event_id={urllib.parse.quote(query_last)}" if query_last is not None else ""
        s = SSEClient(self.srv.host, self.srv.port,
                      f"/sessions/{self.session_id}/stream{self.q(extra)}", headers,
                      wait_open=wait_open)
        self.streams.append(s)
        return s

    def close(self):
        for s in self.streams:
            s.close()
        self.streams = []

    def script(self, script):
        self.fake.set_script(script)

    def user_msg(self, text):
        return {"name": "user", "role": "user", "content": [{"type": "text", "text": text}]}

    def post_chat(self, text=None, input_=None, raw=None, agent_id=None, session_id=None,
                  timeout=10.0):
        if raw is not None:
            return self.srv.request("POST", "/chat/", body=raw, user=self.user, timeout=timeout)
        body = {"agent_id": agent_id if agent_id is not None else self.agent_id,
                "session_id": session_id if session_id is not None else self.session_id,
                "input": input_ if text is None else self.user_msg(text)}
        return self.srv.post("/chat/", json=body, user=self.user, timeout=timeout)

    def start(self, text, stream=None):
        """POST /chat/ (expects 200 started); returns the stream used."""
        s = stream or self.stream()
        r = self.post_chat(text)
        _expect(r, 200, "POST /chat/")
        got = r.json()
        _check(got == {"status": "started", "session_id": self.session_id},
               f"POST /chat/ answered {got}")
        return s

    def wait_reply_start(self, s, timeout=8.0):
        f = s.wait_frame(lambda e: e.get("type") == "REPLY_START"
                         and e.get("reply_id") not in self.seen_replies,
                         timeout, "REPLY_START of a new reply")
        self.seen_replies.add(f.event["reply_id"])
        return f.event["reply_id"]

    def collect(self, s, reply_id, timeout=8.0):
        """Wait for REPLY_END of reply_id on s; return the Run (frames from its
        REPLY_START through REPLY_END, CUSTOM frames in between included)."""
        s.wait_frame(lambda e: e.get("type") == "REPLY_END" and e.get("reply_id") == reply_id,
                     timeout, f"REPLY_END of {reply_id}")
        # The run persists and releases the session lock just after publishing
        # REPLY_END (runtime 3.6 step 4): give it a moment before reads that expect
        # the finished state.
        if self.wait_status("idle", timeout=3.0) == "running":
            raise AssertionError(f"session still running 3 s after REPLY_END of {reply_id}")
        frames = s.data_frames()
        start = next(i for i, f in enumerate(frames)
                     if f.type == "REPLY_START" and f.event.get("reply_id") == reply_id)
        end = next(i for i, f in enumerate(frames)
                   if i >= start and f.type == "REPLY_END" and f.event.get("reply_id") == reply_id)
        return Run(frames[start:end + 1], reply_id)

    def run(self, text, script=None, timeout=8.0):
        """Script the provider (if given), post a message, wait for the reply's end."""
        if script is not None:
            self.script(script)
        s = self.start(text)
        reply_id = self.wait_reply_start(s, timeout)
        return self.collect(s, reply_id, timeout)

    # -- reads -------------------------------------------------------------------
    def messages(self, extra=""):
        r = self.srv.get(f"/sessions/{self.session_id}/messages{self.q(extra)}", user=self.user)
        return _expect(r, 200, "GET messages").json()

    def messages_raw(self):
        r = self.srv.get(f"/sessions/{self.session_id}/messages{self.q()}", user=self.user)
        return _expect(r, 200, "GET messages").body

    def status(self):
        r = self.srv.get(f"/sessions/{self.session_id}/status{self.q()}", user=self.user)
        return _expect(r, 200, "GET status").json()["status"]

    def wait_status(self, want, timeout=5.0):
        deadline = time.monotonic() + timeout
        while True:
            got = self.status()
            if got == want or time.monotonic() >= deadline:
                return got
            time.sleep(0.05)

    def session_view(self):
        r = self.srv.get(f"/sessions/?agent_id={urllib.parse.quote(self.agent_id)}", user=self.user)
        views = _expect(r, 200, "GET /sessions/").json()["sessions"]
        for v in views:
            if v["session"]["id"] == self.session_id:
                return v
        raise AssertionError(f"session {self.session_id} missing from GET /sessions/")

    def interrupt(self, session_id=None):
        sid = session_id or self.session_id
        return self.srv.post(f"/sessions/{sid}/interrupt{self.q()}", user=self.user)

    def requests(self):
        return self.fake.requests()

    def wait_requests(self, n, timeout=5.0, finished=False):
        return self.fake.wait_requests(n, timeout=timeout, finished=finished)


# ---------------------------------------------------------------------------
# Reading what the fake provider received, format-neutral
# ---------------------------------------------------------------------------

def system_text(req):
    body = req.get("body") or {}
    if req.get("format") == "anthropic":
        sysv = body.get("system")
        if isinstance(sysv, list):
            return "\n".join(b.get("text", "") for b in sysv if isinstance(b, dict))
        return sysv or ""
    for m in body.get("messages") or []:
        if m.get("role") in ("system", "developer"):
            c = m.get("content")
            if isinstance(c, list):
                return "\n".join(p.get("text", "") for p in c if isinstance(p, dict))
            return c or ""
    return ""


def _content_text(content):
    if isinstance(content, str):
        return content
    out = []
    for p in content or []:
        if isinstance(p, dict):
            if isinstance(p.get("text"), str):
                out.append(p["text"])
            elif p.get("type") == "tool_result":
                out.append(_content_text(p.get("content")))
    return "\n".join(out)


def user_texts(req):
    """Texts of the user-role messages (tool results excluded)."""
    body = req.get("body") or {}
    out = []
    for m in body.get("messages") or []:
        if m.get("role") != "user":
            continue
        c = m.get("content")
        if isinstance(c, list):
            c = [p for p in c if not (isinstance(p, dict) and p.get("type") == "tool_result")]
        t = _content_text(c)
        if t:
            out.append(t)
    return out


def tool_calls_and_results(req):
    """([(id, name, arguments-json-text)], {id: result text}) of a provider request."""
    body = req.get("body") or {}
    calls, results = [], {}
    for m in body.get("messages") or []:
        role = m.get("role")
        if req.get("format") == "anthropic":
            for p in m.get("content") or [] if isinstance(m.get("content"), list) else []:
                if not isinstance(p, dict):
                    continue
                if p.get("type") == "tool_use":
                    calls.append((p.get("id"), p.get("name"), json.dumps(p.get("input"))))
                elif p.get("type") == "tool_result":
                    results[p.get("tool_use_id")] = _content_text(p.get("content"))
        else:
            if role == "assistant":
                for tc in m.get("tool_calls") or []:
                    fn = tc.get("function") or {}
                    calls.append((tc.get("id"), fn.get("name"), fn.get("arguments")))
            elif role == "tool":
                results[m.get("tool_call_id")] = _content_text(m.get("content"))
    return calls, results


def tool_names(req):
    body = req.get("body") or {}
    out = []
    for t in body.get("tools") or []:
        if req.get("format") == "anthropic":
            out.append(t.get("name"))
        else:
            out.append((t.get("function") or {}).get("name"))
    return out


# ---------------------------------------------------------------------------
# Assertion helpers shared by the chat tests
# ---------------------------------------------------------------------------

MSG_KEYS = ["name", "content", "role", "id", "metadata", "created_at", "usage", "finished_at",
            "finished_reason", "structured_output", "error"]


def collapse(types):
    """Event types with each run of one *_DELTA type folded into 'X_DELTA+'."""
    out = []
    for t in types:
        if t.endswith("_DELTA") and out and out[-1] == t + "+":
            continue
        out.append(t + "+" if t.endswith("_DELTA") else t)
    return out


def same(expected, actual, what, subset=False):
    from . import match as m
    try:
        m.match(expected, actual, subset=subset)
    except m.Mismatch as e:
        raise AssertionError(f"{what}: {e}") from None


def id_key(frame_id):
    parts = frame_id.split("-")
    if not all(p.isdigit() for p in parts):
        raise AssertionError(f"SSE id {frame_id!r} is not a sequence ('<n>' or '<n>-<m>')")
    return tuple(int(p) for p in parts)


def check_frames(frames, what="stream"):
    """Every data frame well-formed, ids strictly increasing, event ids distinct."""
    last = None
    seen = set()
    for f in frames:
        if f.data is None:
            continue
        try:
            check_frame_format(f)
        except AssertionError as e:
            raise AssertionError(f"{what}: {e}") from None
        k = id_key(f.id)
        if last is not None and k <= last:
            raise AssertionError(f"{what}: SSE id {f.id} after {last} is not increasing")
        last = k
        if f.event["id"] in seen:
            raise AssertionError(f"{what}: event id {f.event['id']} sent twice")
        seen.add(f.event["id"])


def no_dangling_tool_calls(req):
    """Every tool call of a provider request has a result. Returns (calls, results)."""
    calls, results = tool_calls_and_results(req)
    missing = [c[0] for c in calls if c[0] not in results]
    if missing:
        raise AssertionError(f"provider request #{req.get('seq')} has tool calls without a "
                             f"result: {missing}")
    return calls, results
