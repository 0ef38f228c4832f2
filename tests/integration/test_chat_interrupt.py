"""Interrupts and the session lock end to end.

Specs: api-core 7.4 (interrupt 202), 8 (409), runtime 5 (cleanup of an interrupted
reply), 4.4.1 (a cancelled stream keeps its partial content); ARCHITECTURE 11
(409 whenever the lock is held by a new-message run; an idle interrupt publishes
nothing). OpenAI and Anthropic.
"""

import time

from lib.checks import check
from lib.sse import HEARTBEAT_MS, FORMATS, ChatEnv, check_frames, collapse

SLOW_TEXT = " ".join(f"word{i}" for i in range(80))  # ~480 chars


def blocks_of(reply, btype):
    return [b for b in reply["content"] if b["type"] == btype]


def _interrupt_streaming(srv, fmt):
    env = ChatEnv(srv, fmt, user=f"int-stream-{fmt}")
    try:
        env.script([{"text": SLOW_TEXT, "chunk_size": 4, "delay_ms": 40}])  # ~5 s
        s = env.start("Talk slowly")
        rid = env.wait_reply_start(s)
        s.wait_type("TEXT_BLOCK_DELTA")
        time.sleep(0.2)
        t0 = time.monotonic()
        r = env.interrupt()
        check(r.status == 202 and r.json() == {"session_id": env.session_id},
              f"interrupt answered {r.describe()}")
        end = s.wait_type("REPLY_END", timeout=3, reply_id=rid)
        took = end.t - t0
        check(took < 1.5, f"REPLY_END came {took:.2f}s after the interrupt")
        run = env.collect(s, rid)
        check_frames(run.frames)
        check(run.end["finished_reason"] == "interrupted" and run.end["error"] is None,
              f"REPLY_END {run.end}")
        mce = run.of("MODEL_CALL_END")
        check(len(mce) == 1 and mce[0]["finished_reason"] == "interrupted",
              f"MODEL_CALL_END {mce}")
        types = collapse(run.types())
        check(types[-3:] == ["TEXT_BLOCK_END", "MODEL_CALL_END", "REPLY_END"],
              f"event sequence tail {types[-5:]}")
        partial = run.text()
        check(partial and SLOW_TEXT.startswith(partial) and len(partial) < len(SLOW_TEXT),
              f"partial text {partial[:60]!r}... ({len(partial)} chars)")
        reqs = env.wait_requests(1, timeout=3, finished=True)
        check(reqs[0]["outcome"] == "client_closed",
              f"provider request outcome {reqs[0]['outcome']} (upstream request not cancelled)")
        check(env.wait_status("idle") == "idle", "status not idle after the interrupt")
        reply = env.messages()["messages"][-1]
        check(reply["id"] == rid and reply["finished_reason"] == "interrupted",
              f"persisted reply {reply['id']} {reply['finished_reason']}")
        check([b["text"] for b in blocks_of(reply, "text")] == [partial],
              "persisted partial text differs from the streamed deltas")
        # The session accepts the next message.
        run2 = env.run("Go on", [{"text": "Back again."}])
        check(run2.end["finished_reason"] == "completed", f"next run {run2.end}")
        page = env.messages()
        check(len(page["messages"]) == 4, f"{len(page['messages'])} messages after two turns")
    finally:
        env.close()


def _interrupt_tool_sleep(srv, fmt):
    env = ChatEnv(srv, fmt, user=f"int-tool-{fmt}")
    try:
        env.script([{"tool_calls": [{"id": "call_zz", "name": "debug_sleep",
                                     "arguments": {"ms": 8000}}]},
                    {"text": "should never be requested"}])
        s = env.start("Sleep a while")
        rid = env.wait_reply_start(s)
        s.wait_type("TOOL_RESULT_START", tool_call_id="call_zz")
        time.sleep(0.2)
        t0 = time.monotonic()
        r = env.interrupt()
        check(r.status == 202, f"interrupt answered {r.describe()}")
        end = s.wait_type("REPLY_END", timeout=3, reply_id=rid)
        check(end.t - t0 < 1.5, f"REPLY_END came {end.t - t0:.2f}s after the interrupt")
        run = env.collect(s, rid)
        check_frames(run.frames)
        res = [e for e in run.events if e["type"].startswith("TOOL_RESULT")]
        types = [e["type"] for e in res]
        check(types[0] == "TOOL_RESULT_START" and types[-1] == "TOOL_RESULT_END"
              and types.count("TOOL_RESULT_START") == 1 and types.count("TOOL_RESULT_END") == 1,
              f"tool result events {types}")
        check(res[-1]["state"] == "interrupted", f"TOOL_RESULT_END state {res[-1]['state']}")
        tail = [t for t in run.types() if not t.startswith("TOOL_RESULT_TEXT")][-2:]
        check(tail == ["TOOL_RESULT_END", "REPLY_END"], f"last events {run.types()[-4:]}")
        check(run.end["finished_reason"] == "interrupted", f"REPLY_END {run.end}")
        time.sleep(0.3)
        reqs = env.requests()
        check(len(reqs) == 1, f"{len(reqs)} provider requests: the loop went on after the interrupt")
        reply = env.messages()["messages"][-1]
        calls = blocks_of(reply, "tool_call")
        results = blocks_of(reply, "tool_result")
        check([(c["id"], c["state"]) for c in calls] == [("call_zz", "finished")],
              f"persisted calls {calls}")
        check([(r_["id"], r_["state"]) for r_ in results] == [("call_zz", "interrupted")],
              f"persisted results {results}")
        check(reply["finished_reason"] == "interrupted", f"finished_reason {reply['finished_reason']}")
        check(env.wait_status("idle") == "idle", "status not idle")
        # The next turn sends the interrupted call with its result.
        run2 = env.run("Next", [{"text": "Ok."}])
        check(run2.end["finished_reason"] == "completed", f"next run {run2.end}")
    finally:
        env.close()


def _conflict_409(srv, fmt):
    env = ChatEnv(srv, fmt, user=f"conflict-{fmt}")
    try:
        text = " ".join(f"slow{i}" for i in range(25))
        env.script([{"text": text, "chunk_size": 5, "delay_ms": 40}])  # ~1.2 s
        s = env.start("First message")
        rid = env.wait_reply_start(s)
        s.wait_type("TEXT_BLOCK_DELTA")
        r = env.post_chat("Second message while busy")
        check(r.status == 409, f"second POST /chat/ during the run: {r.describe()}")
        check(r.json() == {"detail": f"Session '{env.session_id}' already has an active chat run "
                                     f"in this process."}, f"409 body {r.json()}")
        check(env.status() == "running", f"status {env.status()}")
        run = env.collect(s, rid)
        check(run.end["finished_reason"] == "completed", f"first run {run.end}")
        check(run.text() == text, "the first run's text was disturbed by the 409")
        check(len(run.of("REPLY_START")) == 1, "two REPLY_STARTs")
        page = env.messages()
        texts = [m["content"][0].get("text") for m in page["messages"] if m["role"] == "user"]
        check(texts == ["First message"], f"user messages stored: {texts}")
        check(env.wait_status("idle") == "idle", "status not idle after the run")
        env.script([{"text": "Now it works."}])
        run2 = env.run("Second message, later")
        check(run2.end["finished_reason"] == "completed" and run2.text() == "Now it works.",
              f"POST after the run ended: {run2.end}")
        check(len(env.messages()["messages"]) == 4, "expected four messages after two turns")
        check(len(env.requests()) == 2, f"{len(env.requests())} provider requests, expected 2")
    finally:
        env.close()


for _fmt in FORMATS:
    def _make(fn, fmt):
        def test(srv):
            fn(srv, fmt)
        return test
    for _fn in (_interrupt_streaming, _interrupt_tool_sleep, _conflict_409):
        globals()[f"test{_fn.__name__}_{_fmt}"] = _make(_fn, _fmt)
del _fmt, _fn


def test_interrupt_idle_session(srv):
    env = ChatEnv(srv, "openai", user="int-idle")
    try:
        s = env.stream()
        r = env.interrupt()
        check(r.status == 202 and r.json() == {"session_id": env.session_id},
              f"interrupt of a fresh session: {r.describe()}")
        r = env.interrupt()
        check(r.status == 202, f"second interrupt (idempotent): {r.describe()}")
        time.sleep(max(1.0, HEARTBEAT_MS * 3 / 1000))
        check(s.data_frames() == [], f"events after an idle interrupt: "
                                     f"{[f.type for f in s.data_frames()]}")
        check(env.status() == "idle" and env.messages()["messages"] == [],
              "an idle interrupt changed the session")
        # After a completed run: still nothing new on a stream resumed at its end.
        run = env.run("Hi", [{"text": "Hello."}])
        s2 = env.stream(last_event_id=run.frames[-1].id)
        r = env.interrupt()
        check(r.status == 202, f"interrupt after a run: {r.describe()}")
        time.sleep(1.0)
        check(s2.data_frames() == [], f"events after an idle interrupt: "
                                      f"{[f.type for f in s2.data_frames()]}")
        check(len(env.messages()["messages"]) == 2, "an idle interrupt changed the message log")
        check(len(env.requests()) == 1, "an idle interrupt called the model")
        r = env.interrupt(session_id="no-such-session")
        check(r.status == 404 and r.json() == {"detail": "Session 'no-such-session' not found."},
              f"interrupt of an unknown session: {r.describe()}")
    finally:
        env.close()
