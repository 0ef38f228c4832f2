"""kill -9 in the middle of a run, then a restart on the same data dir.

Agentd persists after every step (ARCHITECTURE 4) and keeps its run lock on the
bus, so after a crash: the session is idle (not running), the message log holds
the user's message and the partial reply exactly once, and the next run works and
never shows the model a tool call without a result (the crashed call is closed as
interrupted; runtime 5.3). OpenAI and Anthropic.
"""

import time

from lib.checks import check
from lib.sse import FORMATS, ChatEnv, no_dangling_tool_calls, user_texts


def _crash_while_sleeping(srv, env, call_id, answer_after):
    """Starts a turn whose tool call sleeps 30 s, kills the server (-9) once the
    call runs, and restarts it; the model's next answer is `answer_after`.
    Returns the cut reply's id."""
    env.script([
        {"text": "Sleeping now.",
         "tool_calls": [{"id": call_id, "name": "debug_sleep", "arguments": {"ms": 30000}}]},
        {"text": answer_after}])
    s = env.start("Sleep, then crash")
    rid = env.wait_reply_start(s)
    s.wait_type("TOOL_RESULT_START", tool_call_id=call_id)
    env.close()
    srv.crash_restart()
    return rid


def _crash_mid_tool(srv, fmt):
    env = ChatEnv(srv, fmt, user=f"crash-{fmt}")
    try:
        rid = _crash_while_sleeping(srv, env, "call_crash", "Recovered after the crash.")

        check(env.wait_status("idle", timeout=3) == "idle",
              f"status after restart: {env.status()} (expected idle, not running)")
        page = env.messages()
        msgs = page["messages"]
        check(page["is_running"] is False, "is_running after restart")
        check([m["role"] for m in msgs] == ["user", "assistant"],
              f"message log after restart: {[(m['role'], m['id']) for m in msgs]}")
        check(msgs[0]["content"][0]["text"] == "Sleep, then crash", "user message changed")
        reply = msgs[1]
        check(reply["id"] == rid, f"partial reply id {reply['id']} != {rid}")
        kinds = [b["type"] for b in reply["content"]]
        check("tool_call" in kinds and "text" in kinds, f"partial reply blocks {kinds}")
        calls = [b for b in reply["content"] if b["type"] == "tool_call"]
        check([c["id"] for c in calls] == ["call_crash"], f"persisted calls {calls}")
        check(len({m["id"] for m in msgs}) == len(msgs), "duplicate message ids")

        run = env.run("Are you back?")
        check(run.end["finished_reason"] == "completed" and run.text() == "Recovered after the crash.",
              f"run after the restart: {run.end}")
        reqs = env.wait_requests(2, finished=True)
        check(len(reqs) == 2, f"{len(reqs)} provider requests")
        calls, results = no_dangling_tool_calls(reqs[1])
        check([c[0] for c in calls] == ["call_crash"], f"calls sent after the restart: {calls}")
        check("interrupt" in results["call_crash"].lower(),
              f"the crashed call's result: {results['call_crash']!r}")
        msgs = env.messages()["messages"]
        ids = [m["id"] for m in msgs]
        check([m["role"] for m in msgs] == ["user", "assistant", "user", "assistant"]
              and len(set(ids)) == 4 and ids[1] == rid,
              f"message log after the second run: {[(m['role'], m['id']) for m in msgs]}")
        check(msgs[1]["finished_reason"] == "interrupted" and msgs[1].get("finished_at"),
              f"the crashed reply: finished_reason {msgs[1]['finished_reason']!r}, "
              f"finished_at {msgs[1].get('finished_at')!r} (expected interrupted, with a time)")
        # In the log too, the cut call is closed as a live interrupt closes it.
        calls = [(b["id"], b["state"]) for b in msgs[1]["content"] if b["type"] == "tool_call"]
        results = [(b["id"], b["state"]) for b in msgs[1]["content"] if b["type"] == "tool_result"]
        check(calls == [("call_crash", "finished")] and results == [("call_crash", "interrupted")],
              f"the crashed reply's call and result in the log: {calls} {results}")
        check(env.status() == "idle", f"final status {env.status()}")
    finally:
        env.close()


def _crash_before_the_model_answers(srv, fmt):
    """The input and the reply's start are stored in one step before POST /chat/
    answers: a crash while the first model call is still open loses neither."""
    env = ChatEnv(srv, fmt, user=f"crash-early-{fmt}")
    try:
        env.script([{"text": "Never seen.", "first_byte_delay_ms": 30000},
                    {"text": "Answered after the crash."}])
        s = env.start("Asked before the crash")
        rid = env.wait_reply_start(s)
        env.wait_requests(1)
        env.close()
        srv.crash_restart()

        check(env.wait_status("idle", timeout=3) == "idle",
              f"status after restart: {env.status()} (expected idle, not running)")
        msgs = env.messages()["messages"]
        check([(m["role"], m["id"]) for m in msgs][1:] == [("assistant", rid)] and msgs[0]["role"] == "user",
              f"message log after restart: {[(m['role'], m['id']) for m in msgs]}")
        check(msgs[0]["content"][0]["text"] == "Asked before the crash", "user message changed")

        run = env.run("Still there?")
        check(run.end["finished_reason"] == "completed" and run.text() == "Answered after the crash.",
              f"run after the restart: {run.end}")
        reqs = env.wait_requests(2, finished=True)
        texts = user_texts(reqs[-1])
        check(any("Asked before the crash" in t for t in texts) and any("Still there?" in t for t in texts),
              f"the model after the restart saw {texts}")
        msgs = env.messages()["messages"]
        check([m["role"] for m in msgs] == ["user", "assistant", "user", "assistant"]
              and msgs[1]["id"] == rid and msgs[1]["finished_reason"] == "interrupted"
              and len({m["id"] for m in msgs}) == 4,
              f"message log after the second run: {[(m['role'], m['id'], m.get('finished_reason')) for m in msgs]}")
    finally:
        env.close()


def _stop_after_a_crash(srv, fmt):
    """After a crash mid-tool, the cut reply shows in progress (its result still
    running) until something closes it. Stop does: the reply is stored
    interrupted with its call closed, and a stream gets its REPLY_END."""
    env = ChatEnv(srv, fmt, user=f"crash-stop-{fmt}")
    try:
        rid = _crash_while_sleeping(srv, env, "call_cut", "Fine after the stop.")
        check(env.wait_status("idle", timeout=3) == "idle", f"status after restart: {env.status()}")
        cut = env.messages()["messages"][-1]
        check(cut["id"] == rid and cut["finished_reason"] is None, f"cut reply {cut.get('finished_reason')!r}")

        s = env.stream()
        r = env.interrupt()
        check(r.status == 202, f"interrupt: {r.status}")
        end = s.wait_frame(lambda e: e.get("type") == "REPLY_END" and e.get("reply_id") == rid,
                           8.0, "REPLY_END of the cut reply").event
        check(end["finished_reason"] == "interrupted", f"REPLY_END {end}")
        reply = env.messages()["messages"][-1]
        check(reply["id"] == rid and reply["finished_reason"] == "interrupted",
              f"stored reply {reply['id']} {reply['finished_reason']!r}")
        results = [(b["id"], b["state"]) for b in reply["content"] if b["type"] == "tool_result"]
        check(results == [("call_cut", "interrupted")], f"results {results}")
        # Nothing is left to close: a second Stop publishes nothing more.
        before = len([f for f in s.data_frames() if f.type == "REPLY_END"])
        check(env.interrupt().status == 202, "second interrupt")
        time.sleep(0.3)
        check(len([f for f in s.data_frames() if f.type == "REPLY_END"]) == before, "a second REPLY_END")
        run = env.run("Are you back?")
        check(run.end["finished_reason"] == "completed" and run.text() == "Fine after the stop.", f"{run.end}")
        reqs = env.wait_requests(2, finished=True)
        _, seen = no_dangling_tool_calls(reqs[1])
        check("interrupt" in seen["call_cut"].lower(), f"the cut call's result: {seen['call_cut']!r}")
    finally:
        env.close()


for _fmt in FORMATS:
    def _make(fn, fmt):
        def test(srv):
            fn(srv, fmt)
        return test
    globals()[f"test_crash_mid_tool_{_fmt}"] = _make(_crash_mid_tool, _fmt)
    globals()[f"test_crash_before_the_model_answers_{_fmt}"] = _make(_crash_before_the_model_answers, _fmt)
    globals()[f"test_stop_after_a_crash_{_fmt}"] = _make(_stop_after_a_crash, _fmt)
del _fmt
