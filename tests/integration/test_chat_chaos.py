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
