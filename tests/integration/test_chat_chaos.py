"""Every operation on one session at once: chats, PATCHes, interrupts, reads.

Nothing may answer outside its documented statuses (no 5xx, no dropped
connection), the session must end idle and usable, and every message a POST
/chat/ accepted must be in the log exactly once (README: concurrent requests
never undo each other; runtime 3: the accepted input is persisted). OpenAI format.
"""

import threading
import time

from lib.checks import check
from lib.sse import ChatEnv

SECONDS = 3.0


def test_everything_at_once_on_one_session(srv):
    env = ChatEnv(srv, "openai", user="chaos")
    try:
        # A new message gets a tool call (a 60 ms sleep), its result a short
        # answer streamed over ~0.2 s: runs, tools, PATCHes and interrupts overlap
        # all the time, and interrupts land in every phase of a run.
        env.script({"responses": [{"match": {"last_message_contains": "msg-"}, "repeat": True,
                                   "tool_calls": [{"name": "debug_sleep", "arguments": {"ms": 60}}]}],
                    "default": {"text": "a slow answer " * 6, "chunk_size": 8, "delay_ms": 15}})
        q = env.q()
        lock = threading.Lock()
        problems = []
        accepted = []  # texts of messages POST /chat/ answered 200 for
        counts = {}

        def record(what, resp, allowed):
            with lock:
                counts[(what, resp.status)] = counts.get((what, resp.status), 0) + 1
                if resp.status not in allowed:
                    problems.append(f"{what}: {resp.status} {resp.body[:200]!r}")

        def loop(what, body_fn):
            deadline = time.monotonic() + SECONDS
            i = 0
            while time.monotonic() < deadline:
                try:
                    body_fn(i)
                except Exception as e:  # noqa: BLE001 - a dropped connection is a finding
                    with lock:
                        problems.append(f"{what}: {e!r}")
                i += 1

        def chat(tag):
            def one(i):
                text = f"msg-{tag}-{i}"
                r = env.post_chat(text)
                record("chat", r, {200, 409})
                if r.status == 200:
                    with lock:
                        accepted.append(text)
                time.sleep(0.02)
            return one

        def patch(i):
            mode = ("default", "bypass", "accept_edits")[i % 3]
            r = srv.request("PATCH", f"/sessions/{env.session_id}{q}", json={"permission_mode": mode},
                            user=env.user)
            record("patch", r, {200, 409})
            time.sleep(0.01)

        def interrupt(i):
            record("interrupt", env.interrupt(), {202})
            time.sleep(0.05)

        def read(i):
            sid = env.session_id
            record("status", srv.get(f"/sessions/{sid}/status{q}", user=env.user), {200})
            record("messages", srv.get(f"/sessions/{sid}/messages{q}&limit=5", user=env.user), {200})
            record("list", srv.get(f"/sessions/{q}", user=env.user), {200})

        workers = [("chat", chat("a")), ("chat", chat("b")), ("patch", patch), ("interrupt", interrupt),
                   ("read", read)]
        threads = [threading.Thread(target=loop, args=w) for w in workers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        check(not problems, f"{len(problems)} unexpected answers, first: {problems[:3]}; counts {counts}")
        check(counts.get(("chat", 200), 0) >= 3 and counts.get(("patch", 200), 0) >= 3,
              f"the operations hardly overlapped: {counts}")

        check(env.wait_status("idle", timeout=10) == "idle", "the session did not come back to idle")
        # Usable afterwards: a plain turn runs to completion. The stream replays
        # the storm's replies first: they are marked seen before the new one starts.
        stream = env.stream()
        time.sleep(0.5)
        env.seen_replies.update(f.event.get("reply_id") for f in stream.data_frames() if f.type == "REPLY_START")
        env.script([{"text": "calm again"}])
        env.start("after the storm", stream=stream)
        reply_id = env.wait_reply_start(stream)
        run = env.collect(stream, reply_id)
        check(run.end["finished_reason"] == "completed", f"the next turn ended {run.end}")
        accepted.append("after the storm")

        page = env.messages("&limit=200")
        check(not page["has_more"], "more than 200 messages: raise the test's page size")
        msgs = page["messages"]
        logged = [b["text"] for m in msgs if m["role"] == "user"
                  for b in m["content"] if b.get("type") == "text"]
        missing = sorted(set(accepted) - set(logged))
        doubled = sorted({t for t in logged if logged.count(t) > 1})
        unasked = sorted(set(logged) - set(accepted))
        check(not missing and not doubled and not unasked,
              f"accepted inputs vs the log: missing {missing[:5]}, twice {doubled[:5]}, never accepted {unasked[:5]}")
        open_replies = [m["id"] for m in msgs if m["role"] == "assistant" and m.get("finished_reason") is None]
        check(not open_replies, f"replies left without a finished_reason: {open_replies[:5]}")
        # Every tool call of a finished reply has its result (interrupted ones included).
        calls = results = 0
        for m in msgs:
            if m["role"] != "assistant":
                continue
            ids = [b["id"] for b in m["content"] if b.get("type") == "tool_call"]
            done = {b["id"] for b in m["content"] if b.get("type") == "tool_result"}
            calls += len(ids)
            results += len(done)
            check(set(ids) <= done, f"reply {m['id']}: tool calls without a result {sorted(set(ids) - done)}")
        check(calls >= 3, f"only {calls} tool calls were made: the script's match did not apply")
    finally:
        env.close()


def test_deleting_the_agent_while_its_sessions_chat(srv):
    env = ChatEnv(srv, "openai", user="chaos-del")
    try:
        env.script({"responses": [], "default": {"text": "busy " * 40, "chunk_size": 4, "delay_ms": 10}})
        q = env.q()
        sessions = [env.session_id]
        for _ in range(4):
            r = srv.post("/sessions/", json={"agent_id": env.agent_id,
                                             "chat_model_config": env.model_config(env.spec["model"])},
                         user=env.user)
            check(r.status == 201, f"create session: {r.status} {r.body[:200]!r}")
            sessions.append(r.json()["session_id"])
        lock = threading.Lock()
        problems = []
        stop = threading.Event()

        def chatter(sid):
            i = 0
            while not stop.is_set():
                try:
                    r = env.post_chat(f"msg-{i}", session_id=sid)
                    # 404 once the agent and its sessions are gone.
                    if r.status not in (200, 404, 409):
                        with lock:
                            problems.append(f"chat {sid}: {r.status} {r.body[:200]!r}")
                except Exception as e:  # noqa: BLE001 - a dropped connection is a finding
                    with lock:
                        problems.append(f"chat {sid}: {e!r}")
                i += 1
                time.sleep(0.03)

        threads = [threading.Thread(target=chatter, args=(sid,), daemon=True) for sid in sessions]
        for t in threads:
            t.start()
        try:
            time.sleep(0.8)
            t0 = time.monotonic()
            r = srv.delete(f"/agent/{env.agent_id}", user=env.user, timeout=30)
            took = time.monotonic() - t0
            time.sleep(0.5)
        finally:
            stop.set()
            for t in threads:
                t.join(30)
        check(r.status == 204, f"DELETE agent: {r.status} {r.body[:200]!r} after {took:.1f}s")
        # Its runs stop at once when cancelled; clients that keep chatting must
        # not keep the delete waiting for new ones (it took 5-21 s when they could).
        check(took < 3, f"DELETE agent took {took:.1f}s while its sessions' clients kept chatting")
        check(not problems, f"{len(problems)} unexpected answers, first: {problems[:3]}")
        for sid in sessions:
            r = srv.get(f"/sessions/{sid}/status{q}", user=env.user)
            check(r.status == 404, f"session {sid} after its agent's delete: {r.status}")
        # Nothing of the agent's runs is left holding the server: a new agent chats.
        after = ChatEnv(srv, "openai", user="chaos-del-after")
        try:
            run = after.run("still there?", [{"text": "yes"}])
            check(run.end["finished_reason"] == "completed", f"a new agent's turn ended {run.end}")
        finally:
            after.close()
    finally:
        env.close()


def test_a_client_reconnecting_all_the_time_misses_nothing(srv):
    """Resuming with Last-Event-ID while runs stream (ARCHITECTURE 11: nothing lost
    or duplicated at the replay/live seam): a client that reconnects every 30-150 ms
    ends with exactly the frames of one that stayed connected, in the same order."""
    env = ChatEnv(srv, "openai", user="chaos-resume")
    try:
        env.script({"responses": [], "default": {"text": "streamed " * 30, "chunk_size": 6, "delay_ms": 4}})
        steady = env.stream()
        stop = threading.Event()
        problems = []

        def chatter():
            i = 0
            while not stop.is_set():
                r = env.post_chat(f"msg-{i}")
                if r.status not in (200, 409):
                    problems.append(f"chat: {r.status} {r.body[:200]!r}")
                i += 1
                time.sleep(0.01)

        t = threading.Thread(target=chatter, daemon=True)
        t.start()
        got = []  # (id, data) of every data frame the reconnecting client read
        reconnects = 0
        try:
            deadline = time.monotonic() + SECONDS
            last = None
            delays = [0.03, 0.15, 0.07, 0.11, 0.05]
            while time.monotonic() < deadline:
                s = env.stream(last_event_id=last)
                time.sleep(delays[reconnects % len(delays)])
                s.close()
                frames = s.data_frames()
                got.extend((f.id, f.data) for f in frames)
                if frames:
                    last = frames[-1].id
                reconnects += 1
        finally:
            stop.set()
            t.join(30)
        check(not problems, f"unexpected answers: {problems[:3]}")
        check(env.wait_status("idle", timeout=10) == "idle", "the session did not come back to idle")
        # Catch up once more, then both clients must hold the same frames.
        s = env.stream(last_event_id=last)
        time.sleep(0.5)
        s.close()
        got.extend((f.id, f.data) for f in s.data_frames())
        time.sleep(0.2)
        want = [(f.id, f.data) for f in steady.data_frames()]
        check(len(want) > 200 and reconnects > 10, f"too little happened: {len(want)} frames, {reconnects} reconnects")
        ids = [i for i, _ in got]
        doubled = len(ids) - len(set(ids))
        check(doubled == 0, f"{doubled} frames arrived twice across {reconnects} reconnects")
        check(got == want, f"the reconnecting client read {len(got)} frames, the steady one {len(want)}; "
                           f"first difference at {next((k for k, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))}")
    finally:
        env.close()


def test_kill_9_in_the_middle_of_everything(srv):
    """Chats, tool calls and PATCHes on one session, then kill -9 and a restart on
    the same data: every message a POST /chat/ accepted before the kill is in the
    log once, the session is idle, and its next turn closes what the crash cut."""
    env = ChatEnv(srv, "openai", user="chaos-kill")
    try:
        env.script({"responses": [{"match": {"last_message_contains": "msg-"}, "repeat": True,
                                   "tool_calls": [{"name": "debug_sleep", "arguments": {"ms": 40}}]}],
                    "default": {"text": "answer " * 20, "chunk_size": 6, "delay_ms": 5}})
        q = env.q()
        stop = threading.Event()
        lock = threading.Lock()
        accepted = []

        def chatter(tag):
            i = 0
            while not stop.is_set():
                try:
                    r = env.post_chat(f"msg-{tag}-{i}", timeout=5)
                    if r.status == 200:
                        with lock:
                            accepted.append(f"msg-{tag}-{i}")
                except Exception:  # noqa: BLE001 - the kill cuts requests in flight
                    pass
                i += 1
                time.sleep(0.01)

        def patcher():
            i = 0
            while not stop.is_set():
                try:
                    srv.request("PATCH", f"/sessions/{env.session_id}{q}",
                                json={"permission_mode": ("default", "bypass")[i % 2]}, user=env.user, timeout=5)
                except Exception:  # noqa: BLE001 - the kill cuts requests in flight
                    pass
                i += 1
                time.sleep(0.02)

        threads = [threading.Thread(target=chatter, args=(tag,), daemon=True) for tag in ("a", "b")]
        threads.append(threading.Thread(target=patcher, daemon=True))
        for t in threads:
            t.start()
        time.sleep(1.5)
        with lock:
            before_kill = list(accepted)
        srv.crash_restart()
        stop.set()
        for t in threads:
            t.join(30)
        # A POST answered in the instant of the kill may or may not have been read
        # by the client before it: only those recorded before the kill must be logged.
        check(len(before_kill) >= 3, f"only {len(before_kill)} chats accepted before the kill")
        check(env.wait_status("idle", timeout=10) == "idle", f"status after restart: {env.status()}")
        stream = env.stream()
        time.sleep(0.3)
        env.seen_replies.update(f.event.get("reply_id") for f in stream.data_frames() if f.type == "REPLY_START")
        env.script([{"text": "back"}])
        env.start("after the kill", stream=stream)
        run = env.collect(stream, env.wait_reply_start(stream))
        check(run.end["finished_reason"] == "completed", f"the turn after the restart ended {run.end}")
        page = env.messages("&limit=200")
        msgs = page["messages"]
        logged = [b["text"] for m in msgs if m["role"] == "user" for b in m["content"] if b.get("type") == "text"]
        missing = sorted(set(before_kill) - set(logged))
        doubled = sorted({t for t in logged if logged.count(t) > 1})
        check(not missing and not doubled, f"accepted before the kill but not logged: {missing[:5]}; twice: {doubled[:5]}")
        open_replies = [m["id"] for m in msgs if m["role"] == "assistant" and m.get("finished_reason") is None]
        check(not open_replies, f"replies still open after the next turn: {open_replies[:5]}")
        for m in msgs:
            if m["role"] != "assistant":
                continue
            ids = {b["id"] for b in m["content"] if b.get("type") == "tool_call"}
            done = {b["id"] for b in m["content"] if b.get("type") == "tool_result"}
            check(ids <= done, f"reply {m['id']}: tool calls without a result {sorted(ids - done)}")
    finally:
        env.close()
