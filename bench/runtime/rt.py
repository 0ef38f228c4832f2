"""Chat-runtime benchmark scenarios against a running agentd and fake provider.

usage: rt.py SCENARIO --agentd URL --provider URL --pid AGENTD_PID --out FILE.json [options]

Scenarios (each writes one JSON object to --out; report.py judges the targets):
  e2e         20-step tool turns (19 debug_echo rounds + a final text) over HTTP,
              fake provider with zero delay: wall time per step, and the provider's
              own time from its request log.
  fanout      N SSE clients on one session's stream while a run streams ~200
              events: latency = receive time - the event's created_at, per client
              per event (kernel receive timestamps, SO_TIMESTAMPNS; the time the
              event loop saw the bytes is reported beside it).
  idle        N idle stream connections (open, read the first frame, keep open):
              agentd's VmRSS, and GET /health answering meanwhile.
  concurrent  N sessions, each one turn against a provider with a first-byte delay:
              all POST /chat/ fired at once, wall time until every REPLY_END
              (--driver: a compiled fake provider and clients in one process instead).

All clients are one asyncio event loop on raw non-blocking sockets (epoll);
every wait has a deadline. Standard library only.
"""
import argparse
import asyncio
import datetime
import http.client
import json
import os
import resource
import socket
import struct
import sys
import time
import urllib.parse

USER = "bench"
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # Linux: SO_TIMESTAMPNS(_OLD) = SCM_TIMESTAMPNS = 35
ANC_SIZE = socket.CMSG_SPACE(16)


class BenchError(Exception):
    pass


def log(msg):
    sys.stderr.write(f"[rt {time.strftime('%H:%M:%S')}] {msg}\n")
    sys.stderr.flush()


def pct(values, p):
    """Nearest-rank percentile of a list (p in 0..100); None when empty."""
    if not values:
        return None
    v = sorted(values)
    k = max(0, min(len(v) - 1, int(round(p / 100.0 * len(v) + 0.5)) - 1))
    return v[k]


def summary_ms(values_s):
    ms = [x * 1000.0 for x in values_s]
    if not ms:
        return {"n": 0}
    return {"n": len(ms), "min": round(min(ms), 3), "p50": round(pct(ms, 50), 3), "p90": round(pct(ms, 90), 3),
            "p99": round(pct(ms, 99), 3), "max": round(max(ms), 3), "mean": round(sum(ms) / len(ms), 3)}


def parse_created(s):
    """created_at is local naive ISO time with microseconds: seconds since the epoch."""
    return datetime.datetime.fromisoformat(s).timestamp()


def proc_status_kb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def proc_cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_fds(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


def listen_counters():
    """TcpExt ListenOverflows / ListenDrops of the machine (all listeners)."""
    try:
        lines = open("/proc/net/netstat").read().splitlines()
    except OSError:
        return {}
    for i in range(0, len(lines) - 1, 2):
        if lines[i].startswith("TcpExt:"):
            names, vals = lines[i].split()[1:], lines[i + 1].split()[1:]
            d = dict(zip(names, vals))
            return {k: int(d[k]) for k in ("ListenOverflows", "ListenDrops") if k in d}
    return {}


def raise_fd_limit(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# ---- blocking HTTP for setup and checks ----------------------------------------------------

class Api:
    """Keep-alive JSON client (setup, control calls, checks: never timed)."""

    def __init__(self, base, user=USER, timeout=30.0):
        u = urllib.parse.urlsplit(base)
        self.host, self.port, self.user, self.timeout = u.hostname, u.port, user, timeout
        self.conn = None

    def raw(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        headers = {"X-User-ID": self.user}
        if data is not None:
            headers["Content-Type"] = "application/json"
        for attempt in (0, 1):
            fresh = self.conn is None
            try:
                if fresh:
                    self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
                self.conn.request(method, path, body=data, headers=headers)
                r = self.conn.getresponse()
                raw = r.read()
                if (r.getheader("Connection") or "").lower() == "close":
                    self.close()
                return r.status, raw
            except (http.client.HTTPException, OSError):
                self.close()
                if fresh or attempt:  # only a stale keep-alive connection is retried
                    raise
        raise BenchError("unreachable")

    def call(self, method, path, body=None, expect=(200, 201, 202)):
        status, raw = self.raw(method, path, body)
        if status not in expect:
            raise BenchError(f"{method} {path}: HTTP {status} {raw[:300]!r}")
        return json.loads(raw) if raw else None

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def make_env(api, provider_url):
    cred = api.call("POST", "/credential/", {"data": {
        "type": "openai_credential", "api_key": "k", "base_url": provider_url + "/v1"}})["credential_id"]
    agent = api.call("POST", "/agent/", {"name": "bench"})["agent_id"]
    return agent, cred


def new_session(api, agent, cred):
    return api.call("POST", "/sessions/", {"agent_id": agent, "chat_model_config": {
        "type": "openai_credential", "credential_id": cred, "model": "m", "parameters": {}}})["session_id"]


def chat_body(agent, sid, text="hi"):
    return {"agent_id": agent, "session_id": sid,
            "input": {"name": "user", "role": "user", "content": [{"type": "text", "text": text}]}}


def set_script(prov, script):
    prov.call("POST", "/_fake/reset")
    prov.call("POST", "/_fake/script", script)


def health_once(api):
    t0 = time.perf_counter()
    try:
        status, _ = api.raw("GET", "/health")
    except (OSError, http.client.HTTPException):
        status = 0
    return status, time.perf_counter() - t0


# ---- raw asyncio clients --------------------------------------------------------------------

class SSEConn:
    """One GET .../stream on a raw non-blocking socket. Reads with recvmsg to get the
    kernel's receive timestamp of the bytes (SO_TIMESTAMPNS), de-chunks the body,
    splits SSE frames and hands each event frame to on_event(conn, id, data, t_kernel, t_app)."""

    __slots__ = ("loop", "sock", "fd", "head", "status", "raw", "sse", "opened", "closed", "ended",
                 "on_event", "error", "frames", "tag", "done", "reads", "tail", "on_marker")

    def __init__(self, loop, on_event, tag=None):
        self.loop = loop
        self.sock = None
        self.fd = -1
        self.head = bytearray()
        self.status = None
        self.raw = bytearray()
        self.sse = bytearray()
        self.opened = loop.create_future()
        self.closed = False
        self.ended = False
        self.on_event = on_event
        self.error = None
        self.frames = 0
        self.tag = tag
        self.done = False
        self.reads = None      # lazy mode: (bytes, t_kernel, t_app) per read, parsed by replay()
        self.tail = b""
        self.on_marker = None  # lazy mode: called once when END_MARKER arrives

    END_MARKER = b'"REPLY_END"'

    def go_lazy(self, on_marker):
        """From now on only store what arrives (cheap); replay() parses it later."""
        self.reads = []
        self.on_marker = on_marker

    def replay(self):
        reads, self.reads = self.reads or [], None
        for data, t_k, t_app in reads:
            self._feed(data, t_k, t_app)

    async def open(self, host, port, path, timeout):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = s
        try:
            await asyncio.wait_for(self.loop.sock_connect(s, (host, port)), timeout)
            req = (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nX-User-ID: {USER}\r\n"
                   f"Accept: text/event-stream\r\n\r\n").encode()
            await asyncio.wait_for(self.loop.sock_sendall(s, req), timeout)
            self.fd = s.fileno()
            self.loop.add_reader(self.fd, self._readable)
            await asyncio.wait_for(asyncio.shield(self.opened), timeout)
        except (OSError, asyncio.TimeoutError) as e:
            self.fail(f"open: {type(e).__name__} {e}")
            return False
        return self.error is None

    def fail(self, why):
        if self.error is None:
            self.error = why
        if not self.opened.done():
            self.opened.set_result(False)
        self.close()

    def close(self):
        if self.closed:
            return
        self.closed = True
        if self.fd >= 0:
            try:
                self.loop.remove_reader(self.fd)
            except (ValueError, OSError):
                pass
        if self.sock is not None:
            self.sock.close()

    def _readable(self):
        try:
            data, anc, _flags, _addr = self.sock.recvmsg(262144, ANC_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            self.fail(f"recv: {e}")
            return
        t_app = time.time()
        if not data:
            if not self.ended:
                self.fail("closed by the server")
            else:
                self.close()
            return
        t_k = t_app
        for level, kind, cdata in anc:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(cdata) >= 16:
                sec, nsec = struct.unpack_from("qq", cdata)
                t_k = sec + nsec * 1e-9
        if self.reads is not None:
            self.reads.append((data, t_k, t_app))
            if self.on_marker is not None and self.END_MARKER in self.tail + data:
                cb, self.on_marker = self.on_marker, None
                cb(self)
            self.tail = data[-16:]
            return
        self._feed(data, t_k, t_app)

    def _feed(self, data, t_k, t_app):
        if self.status is None:
            self.head += data
            i = self.head.find(b"\r\n\r\n")
            if i < 0:
                return
            line = bytes(self.head[:self.head.find(b"\r\n")])
            try:
                self.status = int(line.split(b" ", 2)[1])
            except (IndexError, ValueError):
                self.fail(f"bad status line {line[:80]!r}")
                return
            if self.status != 200:
                self.fail(f"HTTP {self.status}: {bytes(self.head[:300])!r}")
                return
            data = bytes(self.head[i + 4:])
            self.head = bytearray()
        self.raw += data
        raw, pos = self.raw, 0
        while True:  # chunked transfer coding
            nl = raw.find(b"\r\n", pos)
            if nl < 0:
                break
            try:
                size = int(bytes(raw[pos:nl]).split(b";")[0], 16)
            except ValueError:
                self.fail("bad chunk header")
                return
            if size == 0:
                self.ended = True
                pos = len(raw)
                break
            end = nl + 2 + size
            if len(raw) < end + 2:
                break
            self.sse += raw[nl + 2:end]
            pos = end + 2
        del raw[:pos]
        sse = self.sse
        while True:
            i = sse.find(b"\n\n")
            if i < 0:
                break
            frame = bytes(sse[:i])
            del sse[:i + 2]
            if frame.startswith(b":"):  # the opening comment, or a heartbeat
                if not self.opened.done():
                    self.opened.set_result(True)
                continue
            eid = data_ = None
            for ln in frame.split(b"\n"):
                if ln.startswith(b"id: "):
                    eid = ln[4:]
                elif ln.startswith(b"data: "):
                    data_ = ln[6:]
            if not self.opened.done():
                self.opened.set_result(True)
            self.frames += 1
            if self.on_event is not None:
                self.on_event(self, eid, data_, t_k, t_app)


async def http_exchange(host, port, method, path, body=None, timeout=30.0):
    """One request on a fresh connection; (status, body bytes)."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    try:
        writer.write(request_bytes(host, port, method, path, body))
        return await asyncio.wait_for(read_response(reader), timeout)
    finally:
        writer.close()


def request_bytes(host, port, method, path, body=None):
    data = b"" if body is None else json.dumps(body).encode()
    head = (f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\nX-User-ID: {USER}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\nConnection: close\r\n\r\n")
    return head.encode() + data


async def read_response(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for ln in lines[1:]:
        if ":" in ln:
            k, v = ln.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif "chunked" in headers.get("transfer-encoding", "").lower():
        body = bytearray()
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            body += await reader.readexactly(size + 2)
            del body[-2:]
        body = bytes(body)
    else:
        body = await reader.read()
    return status, body


def stream_path(sid, agent):
    return f"/sessions/{sid}/stream?agent_id={urllib.parse.quote(agent)}"


async def open_many(loop, host, port, paths, on_event, concurrency, timeout, progress=None, tag_of=None):
    """Opens one SSEConn per path, `concurrency` at a time; returns (conns, failures)."""
    conns = [SSEConn(loop, on_event, tag_of(i) if tag_of else i) for i in range(len(paths))]
    sem = asyncio.Semaphore(concurrency)
    done = 0

    async def one(i):
        nonlocal done
        async with sem:
            await conns[i].open(host, port, paths[i], timeout)
            done += 1
            if progress and done % progress[0] == 0:
                await progress[1](done)

    await asyncio.gather(*(one(i) for i in range(len(paths))))
    failures = [c.error for c in conns if c.error is not None]
    return conns, failures


def type_of(data):
    try:
        return json.loads(data).get("type")
    except (ValueError, AttributeError, TypeError):
        return None


# ---- scenario: 20-step turn end to end --------------------------------------------------------

def e2e_script(steps, chunk_size):
    responses = [{"name": f"tool{i}", "tool_calls": [
        {"id": f"call_{i}", "name": "debug_echo",
         "arguments": {"text": f"step {i}: the quick brown fox jumps over the lazy dog"}}]}
        for i in range(steps - 1)]
    responses.append({"name": "final", "text": "All the echoes came back; done."})
    return {"chunk_size": chunk_size, "delay_ms": 0, "responses": responses}


async def scenario_e2e(a):
    loop = asyncio.get_running_loop()
    host, port = urllib.parse.urlsplit(a.agentd).hostname, urllib.parse.urlsplit(a.agentd).port
    api, prov = Api(a.agentd), Api(a.provider)
    agent, cred = make_env(api, a.provider)
    script = e2e_script(a.steps, a.chunk_size)
    turns, errors = [], []
    cpu0 = proc_cpu_s(a.pid)
    for t in range(a.warmup + a.turns):
        sid = new_session(api, agent, cred)
        set_script(prov, script)
        end = {}

        def on_event(conn, eid, data, tk, ta, end=end):
            if b'"REPLY_END"' in data and type_of(data) == "REPLY_END":
                end.update(t_k=tk, t_app=ta, event=json.loads(data))
                conn.done = True
            end["events"] = end.get("events", 0) + 1

        s = SSEConn(loop, on_event)
        if not await s.open(host, port, stream_path(sid, agent), 10):
            raise BenchError(f"stream did not open: {s.error}")
        t0 = time.time()
        status, body = await http_exchange(host, port, "POST", "/chat/", chat_body(agent, sid, "echo twenty times"))
        if status != 200:
            s.close()
            raise BenchError(f"POST /chat/: HTTP {status} {body[:300]!r}")
        deadline = time.time() + a.timeout
        while "t_k" not in end and time.time() < deadline and not s.closed:
            await asyncio.sleep(0.001)
        s.close()
        if "t_k" not in end:
            raise BenchError(f"turn {t}: no REPLY_END within {a.timeout}s ({end.get('events', 0)} events; {s.error})")
        reason = end["event"].get("finished_reason")
        reqs = prov.call("GET", "/_fake/requests")
        prov_s = sum(max(0.0, r.get("finished_at", r["time"]) - r["time"]) for r in reqs)
        tool_msgs = 0
        if reqs and isinstance(reqs[-1].get("body"), dict):
            tool_msgs = sum(1 for m in reqs[-1]["body"].get("messages", []) if m.get("role") == "tool")
        ok = reason == "completed" and len(reqs) == a.steps and tool_msgs == a.steps - 1
        if not ok:
            errors.append(f"turn {t}: finished_reason={reason}, provider requests={len(reqs)}, "
                          f"tool results in the last request={tool_msgs}")
        wall = end["t_k"] - t0
        rec = {"wall_ms": round(wall * 1000, 3), "provider_ms": round(prov_s * 1000, 3),
               "step_ms": round(wall * 1000 / a.steps, 3),
               "step_ms_without_provider": round((wall - prov_s) * 1000 / a.steps, 3),
               "events": end.get("events", 0), "provider_requests": len(reqs), "ok": ok}
        log(f"e2e turn {t}{' (warm-up)' if t < a.warmup else ''}: {rec}")
        if t >= a.warmup:
            turns.append(rec)
    cpu = proc_cpu_s(a.pid) - cpu0
    steps = [r["step_ms"] for r in turns]
    steps_np = [r["step_ms_without_provider"] for r in turns]
    return {"steps": a.steps, "turns": turns, "errors": errors,
            "step_ms_median": pct(steps, 50), "step_ms_without_provider_median": pct(steps_np, 50),
            "agentd_cpu_ms_per_step": round(cpu / ((a.warmup + a.turns) * a.steps) * 1000, 3),
            "chunk_size": a.chunk_size}


# ---- scenario: SSE fan-out --------------------------------------------------------------------

async def scenario_fanout(a):
    loop = asyncio.get_running_loop()
    u = urllib.parse.urlsplit(a.agentd)
    host, port = u.hostname, u.port
    raise_fd_limit(a.clients + 256)
    api, prov = Api(a.agentd), Api(a.provider)
    agent, cred = make_env(api, a.provider)
    sid = new_session(api, agent, cred)
    # One text answer streamed in `chunks` deltas `delay_ms` apart: ~chunks + 7 events.
    words = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor "
    text = (words * (a.chunks * a.chunk_size // len(words) + 1))[:a.chunks * a.chunk_size]
    set_script(prov, {"responses": [{"text": text, "chunk_size": a.chunk_size, "delay_ms": a.delay_ms}]})

    records = []           # (event id, t_kernel, t_app) per client per event
    first_data = {}        # event id -> its JSON text (first copy)
    finished = [0]
    all_done = loop.create_future()

    def on_event(conn, eid, data, tk, ta):
        records.append((eid, tk, ta))
        if eid not in first_data:
            first_data[eid] = data
        if b'"REPLY_END"' in data and not conn.done and type_of(data) == "REPLY_END":
            conn.done = True
            finished[0] += 1
            if finished[0] == a.clients and not all_done.done():
                all_done.set_result(True)

    if a.reader:
        return await fanout_with_reader(a, loop, host, port, sid, agent, records, first_data, finished, on_event)
    log(f"fanout: opening {a.clients} streams on session {sid}")
    t_open = time.time()
    conns, failures = await open_many(loop, host, port, [stream_path(sid, agent)] * a.clients, on_event,
                                      concurrency=200, timeout=20)
    open_s = time.time() - t_open
    if failures:
        for c in conns:
            c.close()
        raise BenchError(f"{len(failures)} of {a.clients} streams did not open, e.g. {failures[0]}")
    log(f"fanout: {a.clients} streams open in {open_s:.2f}s; starting the run")
    # During the run each read is only stored with its timestamps; frames are parsed after.
    marked = [0]

    def on_marker(conn):
        marked[0] += 1
        if marked[0] == a.clients and not all_done.done():
            all_done.set_result(True)

    for c in conns:
        c.go_lazy(on_marker)
    rss0 = proc_status_kb(a.pid, "VmRSS")
    cpu0 = proc_cpu_s(a.pid)
    me0 = time.process_time()
    t0 = time.time()
    await start_fanout_run(host, port, agent, sid)
    budget = a.chunks * a.delay_ms / 1000.0 + a.timeout
    try:
        await asyncio.wait_for(asyncio.shield(all_done), budget)
    except asyncio.TimeoutError:
        pass
    run_s = time.time() - t0
    cpu = proc_cpu_s(a.pid) - cpu0
    client_cpu = time.process_time() - me0
    rss1 = proc_status_kb(a.pid, "VmRSS")
    await asyncio.sleep(0.2)
    dropped = sum(1 for c in conns if c.error is not None)
    for c in conns:
        c.close()
    for c in conns:
        c.replay()
    return fanout_result(a, records, first_data, finished, dropped, open_s, run_s, cpu, client_cpu, rss0, rss1,
                         "python")


async def start_fanout_run(host, port, agent, sid):
    status, body = await http_exchange(host, port, "POST", "/chat/", chat_body(agent, sid, "stream to everyone"))
    if status != 200:
        raise BenchError(f"POST /chat/: HTTP {status} {body[:300]!r}")


async def fanout_with_reader(a, loop, host, port, sid, agent, records, first_data, finished, on_event):
    """The same scenario with the compiled reader (fanout_reader.cpp) holding the
    streams; its reads are parsed here afterwards, by the same code."""
    out = f"{a.out}.reads"
    log(f"fanout: opening {a.clients} streams on session {sid} with {a.reader}")
    t_open = time.time()
    proc = await asyncio.create_subprocess_exec(
        a.reader, "--host", host, "--port", str(port), "--path", stream_path(sid, agent), "--user", USER,
        "--clients", str(a.clients), "--timeout", str(a.chunks * a.delay_ms / 1000.0 + a.timeout),
        "--out", out, stdout=asyncio.subprocess.PIPE)
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
    except asyncio.TimeoutError:
        proc.kill()
        raise BenchError("the reader did not open its streams within 60 s")
    if line.strip() != b"ready":
        await proc.wait()
        raise BenchError(f"the reader failed while opening streams (exit {proc.returncode})")
    open_s = time.time() - t_open
    log(f"fanout: {a.clients} streams open in {open_s:.2f}s; starting the run")
    rss0 = proc_status_kb(a.pid, "VmRSS")
    cpu0 = proc_cpu_s(a.pid)
    t0 = time.time()
    try:
        await start_fanout_run(host, port, agent, sid)
    except BenchError:
        proc.kill()
        raise
    rc = await proc.wait()
    run_s = time.time() - t0
    cpu = proc_cpu_s(a.pid) - cpu0
    rss1 = proc_status_kb(a.pid, "VmRSS")
    if rc != 0:
        raise BenchError(f"the reader exited with {rc}")
    with open(out, "rb") as f:
        blob = f.read()
    os.unlink(out)
    if blob[:4] != b"AFR1":
        raise BenchError("the reader's output is not AFR1")
    n_clients, client_cpu, _finished = struct.unpack_from("<IdI", blob, 4)
    conns = [SSEConn(loop, on_event) for _ in range(n_clients)]
    for c in conns:
        c.reads = []
    pos = 4 + struct.calcsize("<IdI")
    head = struct.Struct("<IIdd")
    while pos < len(blob):
        client, length, t_k, t_app = head.unpack_from(blob, pos)
        pos += head.size
        conns[client].reads.append((blob[pos:pos + length], t_k, t_app))
        pos += length
    for c in conns:
        c.replay()
    dropped = sum(1 for c in conns if c.error is not None)
    return fanout_result(a, records, first_data, finished, dropped, open_s, run_s, cpu, client_cpu, rss0, rss1,
                         "compiled")


def fanout_result(a, records, first_data, finished, dropped, open_s, run_s, cpu, client_cpu, rss0, rss1, client):
    created = {}
    types = {}
    for eid, data in first_data.items():
        ev = json.loads(data)
        created[eid] = parse_created(ev["created_at"])
        types[eid] = ev.get("type")
    lat_k = [tk - created[eid] for eid, tk, _ in records]
    lat_a = [ta - created[eid] for eid, _, ta in records]
    n_events = len(first_data)
    per_type = {}
    for t in types.values():
        per_type[t] = per_type.get(t, 0) + 1
    expected = n_events * a.clients
    first_last = {}
    for eid, tk, _ in records:
        lo, hi = first_last.get(eid, (tk, tk))
        first_last[eid] = (min(lo, tk), max(hi, tk))
    spread = [hi - lo for lo, hi in first_last.values()]
    # The events whose last client waited longest: a burst of events published
    # back to back shows here, and by its position in the run.
    order = sorted(created, key=lambda e: created[e])
    worst = {}
    for eid, tk, _ in records:
        worst[eid] = max(worst.get(eid, 0.0), tk - created[eid])
    slowest = sorted(worst, key=lambda e: -worst[e])[:5]
    slowest_events = [{"index": order.index(e), "type": types[e], "last_client_ms": round(worst[e] * 1000, 3),
                       "spread_ms": round((first_last[e][1] - first_last[e][0]) * 1000, 3)} for e in slowest]
    negative = sum(1 for x in lat_k if x < -0.0005)
    res = {"clients": a.clients, "events": n_events, "event_types": per_type,
           "frames_received": len(records), "frames_expected": expected,
           "frames_missing": expected - len(records), "clients_finished": finished[0],
           "clients_dropped": dropped, "open_s": round(open_s, 3), "run_s": round(run_s, 3),
           "delay_ms": a.delay_ms, "chunk_size": a.chunk_size,
           "latency_ms": summary_ms(lat_k), "latency_app_ms": summary_ms(lat_a),
           "slowest_events": slowest_events,
           "spread_ms": summary_ms(spread),
           "agentd_cpu_us_per_frame": round(cpu / max(1, len(records)) * 1e6, 2),
           "client_cpu_us_per_frame": round(client_cpu / max(1, len(records)) * 1e6, 2),
           "negative_latencies": negative,
           "agentd_cpu_s": round(cpu, 3), "client_cpu_s": round(client_cpu, 3),
           "agentd_rss_kb": {"before_run": rss0, "after_run": rss1}, "client": client}
    log(f"fanout: {json.dumps(res)}")
    return res


# ---- scenario: idle streams -------------------------------------------------------------------

async def scenario_idle(a):
    loop = asyncio.get_running_loop()
    u = urllib.parse.urlsplit(a.agentd)
    host, port = u.hostname, u.port
    limit = raise_fd_limit(a.connections + 256)
    n = a.connections
    if limit < n + 64:
        raise BenchError(f"the client's fd limit is {limit}; {n} connections need {n + 64} "
                         f"(raise ulimit -n, or BENCH_IDLE_CONNECTIONS)")
    api = Api(a.agentd)
    agent, cred = make_env(api, a.provider)
    sid = new_session(api, agent, cred)
    health_api = Api(a.agentd, timeout=10)
    health_during = []

    async def progress(done):
        st, dt = health_once(health_api)
        health_during.append((st, dt))
        log(f"idle: {done} streams open; GET /health {st} in {dt * 1000:.1f} ms; "
            f"agentd VmRSS {proc_status_kb(a.pid, 'VmRSS')} kB")

    await asyncio.sleep(1.0)
    rss_before = proc_status_kb(a.pid, "VmRSS")
    fds_before = proc_fds(a.pid)
    t0 = time.time()
    conns, failures = await open_many(loop, host, port, [stream_path(sid, agent)] * n, None,
                                      concurrency=a.concurrency, timeout=30, progress=(1000, progress))
    open_s = time.time() - t0
    await asyncio.sleep(a.settle)
    alive = sum(1 for c in conns if c.error is None and not c.closed)
    rss = proc_status_kb(a.pid, "VmRSS")
    hwm = proc_status_kb(a.pid, "VmHWM")
    fds = proc_fds(a.pid)
    health_after = [health_once(health_api) for _ in range(a.health_checks)]
    alive_after = sum(1 for c in conns if c.error is None and not c.closed)
    for c in conns:
        c.close()
    health_api.close()
    hd = [dt for st, dt in health_during + health_after]
    bad = [st for st, _ in health_during + health_after if st != 200]
    res = {"connections": n, "opened": n - len(failures), "open_failures": len(failures),
           "first_failure": failures[0] if failures else None,
           "alive_after_settle": alive, "alive_after_health": alive_after, "open_s": round(open_s, 3),
           "rss_kb_before": rss_before, "rss_kb": rss, "hwm_kb": hwm,
           "rss_kb_per_connection": round((rss - rss_before) / max(1, n - len(failures)), 3),
           "agentd_fds_before": fds_before, "agentd_fds": fds,
           "health_checks": len(hd), "health_non_200": len(bad), "health_ms": summary_ms(hd)}
    log(f"idle: {json.dumps(res)}")
    return res


# ---- scenario: concurrent sessions ------------------------------------------------------------

CONCURRENT_TEXT = "Hello from the slow provider."


async def scenario_concurrent(a):
    loop = asyncio.get_running_loop()
    u = urllib.parse.urlsplit(a.agentd)
    host, port = u.hostname, u.port
    api = Api(a.agentd)
    if a.driver:
        return await concurrent_with_driver(a, host, port, api)
    raise_fd_limit(3 * a.sessions + 256)
    prov = Api(a.provider)
    agent, cred = make_env(api, a.provider)
    sids = [new_session(api, agent, cred) for _ in range(a.sessions)]
    set_script(prov, {"responses": [{"name": "slow", "text": CONCURRENT_TEXT, "repeat": True, "chunk_size": 1000,
                                     "first_byte_delay_ms": a.latency_ms}]})
    ends = {}

    def on_event(conn, eid, data, tk, ta):
        if b'"REPLY_END"' in data and not conn.done and type_of(data) == "REPLY_END":
            conn.done = True
            ends[conn.tag] = (tk, ta, json.loads(data).get("finished_reason"))

    conns, failures = await open_many(loop, host, port, [stream_path(s, agent) for s in sids], on_event,
                                      concurrency=100, timeout=20, tag_of=lambda i: sids[i])
    if failures:
        raise BenchError(f"{len(failures)} streams did not open, e.g. {failures[0]}")
    # Connections for the POSTs are opened first, so "at once" means 200 writes in one loop turn.
    posts = []
    for s in sids:
        r, w = await asyncio.wait_for(asyncio.open_connection(host, port), 10)
        posts.append((s, r, w, request_bytes(host, port, "POST", "/chat/", chat_body(agent, s, "hello"))))
    await asyncio.sleep(0.2)
    lc0 = listen_counters()
    cpu0 = proc_cpu_s(a.pid)
    rss0 = proc_status_kb(a.pid, "VmRSS")
    me0 = time.process_time()
    t0 = time.time()
    for _, _, w, req in posts:
        w.write(req)
    t_sent = time.time()

    async def answer(s, r, w):
        try:
            st, body = await asyncio.wait_for(read_response(r), a.timeout)
            return s, st, body, time.time()
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError) as e:
            return s, 0, repr(e).encode(), time.time()
        finally:
            w.close()

    answers = await asyncio.gather(*(answer(s, r, w) for s, r, w, _ in posts))
    deadline = time.time() + a.timeout
    while len(ends) < len(sids) and time.time() < deadline:
        await asyncio.sleep(0.005)
    cpu = proc_cpu_s(a.pid) - cpu0
    client_cpu = time.process_time() - me0
    rss1 = proc_status_kb(a.pid, "VmRSS")
    lc1 = listen_counters()
    stream_errors = {c.tag: c.error for c in conns if c.error is not None}
    for c in conns:
        c.close()
    reqs = prov.call("GET", "/_fake/requests")
    return concurrent_result(a, api, agent, sids, t0, t_sent, answers, ends, stream_errors, reqs,
                             cpu, (rss0, rss1), (lc0, lc1), "python", client_cpu)


async def concurrent_with_driver(a, host, port, api):
    """The same scenario with the compiled driver (concurrent_driver.cpp) as both the
    fake provider and the clients; its records are judged here by the same code."""
    out = f"{a.out}.driver"
    proc = await asyncio.create_subprocess_exec(
        a.driver, "--host", host, "--port", str(port), "--user", USER, "--latency-ms", str(a.latency_ms),
        "--text", CONCURRENT_TEXT, "--timeout", str(a.timeout), "--out", out,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)

    async def expect(word, timeout):
        try:
            line = (await asyncio.wait_for(proc.stdout.readline(), timeout)).decode(errors="replace").split()
        except asyncio.TimeoutError:
            raise BenchError(f"the driver wrote no {word!r} within {timeout} s")
        if not line or line[0] != word:
            await proc.wait()
            raise BenchError(f"the driver failed before {word!r} (exit {proc.returncode})")
        return line

    try:
        pport = int((await expect("provider", 10))[1])
        agent, cred = make_env(api, f"http://127.0.0.1:{pport}")
        sids = [new_session(api, agent, cred) for _ in range(a.sessions)]
        setup = "".join(f"{s}\t{stream_path(s, agent)}\t"
                        f"{json.dumps(chat_body(agent, s, 'hello'), separators=(',', ':'))}\n" for s in sids)
        proc.stdin.write(setup.encode() + b"go-setup-done\n")
        await proc.stdin.drain()
        log(f"concurrent: {a.driver} opening {a.sessions} streams and POST connections")
        await expect("ready", 60)
        await asyncio.sleep(0.2)
        lc0 = listen_counters()
        cpu0 = proc_cpu_s(a.pid)
        rss0 = proc_status_kb(a.pid, "VmRSS")
        proc.stdin.write(b"go\n")
        await proc.stdin.drain()
        try:
            rc = await asyncio.wait_for(proc.wait(), a.timeout + 30)
        except asyncio.TimeoutError:
            raise BenchError(f"the driver did not finish within {a.timeout + 30} s")
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    cpu = proc_cpu_s(a.pid) - cpu0
    rss1 = proc_status_kb(a.pid, "VmRSS")
    lc1 = listen_counters()
    if rc != 0:
        raise BenchError(f"the driver exited with {rc}")
    with open(out) as f:
        doc = json.load(f)
    if os.environ.get("BENCH_KEEP") != "1":  # kept: the driver's records, for a closer look
        os.unlink(out)
    # Bodies come back with each byte >= 0x80 as one \u00XX: latin-1 restores the bytes.
    answers = [(p["sid"], p["status"], p["body"].encode("latin-1", "replace"), p["t"]) for p in doc["posts"]]
    ends = {s: (tk, None, reason) for s, (tk, reason) in doc["ends"].items()}
    return concurrent_result(a, api, agent, sids, doc["t0"], doc["t_sent"], answers, ends, doc["stream_errors"],
                             doc["provider"], cpu, (rss0, rss1), (lc0, lc1), "compiled", doc["cpu_s"])


def concurrent_result(a, api, agent, sids, t0, t_sent, answers, ends, stream_errors, reqs, cpu, rss, lc, client,
                      client_cpu):
    """The scenario's result from either harness: answers = (sid, status, body, t) per POST,
    ends = {sid: (t_kernel, t_app, finished_reason)}, reqs = the provider's request records
    ({"time", "finished_at", "outcome"}); then the persisted state of every session is checked."""
    (rss0, rss1), (lc0, lc1) = rss, lc
    errors = []
    for s, st, body, _ in answers:
        if st != 200:
            errors.append(f"POST /chat/ for {s}: HTTP {st} {body[:200]!r}")
    for s in sids:
        if s not in ends:
            why = f" ({stream_errors[s]})" if stream_errors.get(s) else ""
            errors.append(f"session {s}: no REPLY_END within {a.timeout}s{why}")
        elif ends[s][2] != "completed":
            errors.append(f"session {s}: REPLY_END finished_reason={ends[s][2]}")
    # The persisted outcome: every session idle, its last logged message the scripted answer.
    log_checked = 0
    for s in sids:
        try:
            stt = api.call("GET", f"/sessions/{s}/status?agent_id={urllib.parse.quote(agent)}")
            page = api.call("GET", f"/sessions/{s}/messages?agent_id={urllib.parse.quote(agent)}&limit=1")
        except (BenchError, OSError, http.client.HTTPException) as e:
            errors.append(f"session {s}: status/messages check failed: {e}")
            continue
        msgs = page.get("messages", page if isinstance(page, list) else []) if page is not None else []
        last = msgs[-1] if msgs else {}
        got = "".join(b.get("text", "") for b in last.get("content", []) if isinstance(b, dict))
        busy = json.dumps(stt)
        if CONCURRENT_TEXT not in got or last.get("role") != "assistant":
            errors.append(f"session {s}: last logged message {json.dumps(last)[:200]}")
        elif '"running"' in busy or '"busy"' in busy:
            errors.append(f"session {s}: status after REPLY_END {busy[:200]}")
        else:
            log_checked += 1
    arr = sorted(r["time"] for r in reqs)
    fin = sorted(r.get("finished_at") or r["time"] for r in reqs)
    outcomes = {}
    for r in reqs:
        outcomes[r.get("outcome")] = outcomes.get(r.get("outcome"), 0) + 1
    # Largest number of provider requests in flight at the same time.
    edges = sorted([(r["time"], 1) for r in reqs] + [(r.get("finished_at") or r["time"], -1) for r in reqs])
    cur = peak = 0
    for _, d in edges:
        cur += d
        peak = max(peak, cur)
    end_times = [v[0] for v in ends.values()]
    wall = (max(end_times) - t0) if end_times and len(ends) == len(sids) else None
    per_session = [ends[s][0] - t0 for s in sids if s in ends]
    post_lat = [t - t0 for _, st, _, t in answers if st == 200]
    ideal = a.latency_ms / 1000.0
    res = {"sessions": a.sessions, "provider_latency_ms": a.latency_ms, "ideal_ms": a.latency_ms,
           "wall_ms": None if wall is None else round(wall * 1000, 3),
           "wall_over_ideal": None if wall is None else round(wall / ideal, 3),
           "errors": len(errors), "error_examples": errors[:5], "log_checked": log_checked,
           "send_ms": round((t_sent - t0) * 1000, 3),
           "post_response_ms": summary_ms(post_lat), "reply_end_ms": summary_ms(per_session),
           "provider_requests": len(reqs), "provider_outcomes": outcomes,
           "provider_peak_in_flight": peak,
           "provider_first_arrival_ms": round((arr[0] - t0) * 1000, 3) if arr else None,
           "provider_last_arrival_ms": round((arr[-1] - t0) * 1000, 3) if arr else None,
           "provider_last_finish_ms": round((fin[-1] - t0) * 1000, 3) if fin else None,
           # How much later than its arrival the compiled provider read a request (its clock
           # starts at the arrival); absent for the Python provider, which reads as it arrives.
           "provider_read_lag_ms": summary_ms(lags) if (lags := [r["seen"] - r["time"] for r in reqs if "seen" in r]) else None,
           "listen_overflows": {k: lc1.get(k, 0) - lc0.get(k, 0) for k in lc0},
           "agentd_cpu_s": round(cpu, 3), "agentd_rss_kb": {"before": rss0, "after": rss1},
           "client": client, "client_cpu_s": round(client_cpu, 3)}
    log(f"concurrent: {json.dumps(res)}")
    return res


SCENARIOS = {"e2e": scenario_e2e, "fanout": scenario_fanout, "idle": scenario_idle,
             "concurrent": scenario_concurrent}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scenario", choices=sorted(SCENARIOS))
    ap.add_argument("--agentd", required=True, help="http://127.0.0.1:PORT")
    ap.add_argument("--provider", required=True, help="the fake provider, http://127.0.0.1:PORT")
    ap.add_argument("--pid", type=int, required=True, help="agentd's pid (RSS, CPU)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds any one wait may take")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--turns", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--chunk-size", type=int, default=None)
    ap.add_argument("--clients", type=int, default=1000)
    ap.add_argument("--chunks", type=int, default=195, help="fanout: text deltas (~chunks + 7 events)")
    ap.add_argument("--delay-ms", type=int, default=30)
    ap.add_argument("--connections", type=int, default=10000)
    ap.add_argument("--concurrency", type=int, default=256)
    ap.add_argument("--settle", type=float, default=2.0)
    ap.add_argument("--health-checks", type=int, default=50)
    ap.add_argument("--sessions", type=int, default=200)
    ap.add_argument("--latency-ms", type=int, default=200)
    ap.add_argument("--reader", default=None,
                    help="fanout: the compiled stream reader (agentd_fanout_reader); default: asyncio clients")
    ap.add_argument("--driver", default=None,
                    help="concurrent: the compiled provider and clients (agentd_concurrent_driver); "
                         "default: the Python fake provider and asyncio clients")
    a = ap.parse_args()
    if a.chunk_size is None:
        a.chunk_size = 4 if a.scenario == "fanout" else 256
    try:
        res = asyncio.run(SCENARIOS[a.scenario](a))
    except BenchError as e:
        log(f"{a.scenario}: ERROR: {e}")
        res = {"error": str(e)}
        with open(a.out, "w") as f:
            json.dump(res, f, indent=1)
        return 1
    with open(a.out, "w") as f:
        json.dump(res, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
