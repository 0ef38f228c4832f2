"""Background tools end to end (agentd serve --debug-tools --tool-offload-timeout 1,
fake LLM provider): a tool call still running after the offload timeout gets a
placeholder result and the reply goes on; its real result reaches the session's
inbox, taken by the reply's next reasoning step, or by a run the wake-up
dispatcher starts when no run is going on; ToolStop cancels a background task;
deleting the session cancels its tasks.

Specs: runtime 9.1-9.3, 10.1-10.3; api-core 7.3. Each test runs for OpenAI and
Anthropic.
"""

import contextlib
import json
import re
import time

from lib.checks import check
from lib.sse import CHAT_SERVER_ARGS, FORMATS, ChatEnv, tool_calls_and_results, tool_names

OFFLOAD_S = 1
PLACEHOLDER = re.compile(r"^<system-reminder>Tool '([^']+)' is running in background \(id=([^)]+)\) for over 1\.0s\. ")


def _server(srv, label):
    """A server of its own: the short offload timeout would move other tests' sleeps."""
    bg = srv.clone(label)
    args = list(bg.extra_args)
    n = len(CHAT_SERVER_ARGS)
    if not any(args[i:i + n] == CHAT_SERVER_ARGS for i in range(len(args) - n + 1)):
        args += CHAT_SERVER_ARGS
    bg.extra_args = args + ["--tool-offload-timeout", str(OFFLOAD_S)]
    bg.start()
    return bg


def _placeholder(run, call_id):
    text = "".join(e["delta"] for e in run.of("TOOL_RESULT_TEXT_DELTA") if e["tool_call_id"] == call_id)
    m = PLACEHOLDER.match(text)
    check(m is not None, f"placeholder result of {call_id}: {text[:200]!r}")
    ends = [e for e in run.of("TOOL_RESULT_END") if e["tool_call_id"] == call_id]
    check(len(ends) == 1 and ends[0]["state"] == "success", f"placeholder TOOL_RESULT_END {ends}")
    return m.group(2)


def _tool_output_hints(events):
    return [e for e in events if e["type"] == "HINT_BLOCK" and isinstance(e.get("source"), str)
            and json.loads(e["source"]).get("label") == "tool_output"]


def _hint_text(hint):
    h = hint["hint"]
    return h if isinstance(h, str) else "".join(b.get("text", "") for b in h)


def _offload_then_wake(srv, fmt):
    with _background_env(srv, fmt, "bg-wake") as (bg, env):
        env.script([
            {"tool_calls": [{"id": "call_slow", "name": "debug_sleep", "arguments": {"ms": 2500}}]},
            {"text": "It runs in the background."},
            {"text": "The sleep is over."}])
        s = env.start("Sleep a while")
        t0 = time.monotonic()
        first = env.collect(s, env.wait_reply_start(s))
        check(time.monotonic() - t0 < 2.4, "the reply waited for the tool instead of moving it to the background")
        task_id = _placeholder(first, "call_slow")
        check(first.end["finished_reason"] == "completed", f"first REPLY_END {first.end}")
        reqs = env.wait_requests(2, finished=True)
        _, results = tool_calls_and_results(reqs[1])
        check(results.get("call_slow", "").startswith("<system-reminder>Tool 'debug_sleep' is running in background"),
              f"the model saw {results}")
        check(task_id not in ("", "call_slow"), f"task id {task_id!r}")

        # Nobody consumes the inbox when the tool ends: a wake-up run takes it.
        second = env.collect(s, env.wait_reply_start(s, timeout=10), timeout=10)
        hints = _tool_output_hints(second.events)
        check(len(hints) == 1, f"tool_output hints in the wake-up reply: {hints}")
        check(json.loads(hints[0]["source"]) == {"label": "tool_output", "sublabel": "debug_sleep · call_slow"},
              f"hint source {hints[0]['source']!r}")
        check(hints[0]["source"] == '{"label": "tool_output", "sublabel": "debug_sleep · call_slow"}',
              f"hint source is not written as the reference writes it: {hints[0]['source']!r}")
        check(_hint_text(hints[0]) == "<system-notification>Tool 'debug_sleep' running in background "
              "(id=call_slow) has completed.\n\nResult:\n\nslept 2500 ms</system-notification>",
              f"hint text {_hint_text(hints[0])!r}")
        check(second.end["finished_reason"] == "completed", f"second REPLY_END {second.end}")
        reqs = env.wait_requests(3, finished=True)
        check("slept 2500 ms" in json.dumps(reqs[2]["body"]), "the wake-up model call did not see the result")
        check("slept 2500 ms" not in json.dumps(reqs[1]["body"]), "the result reached the model before it existed")

        msgs = env.messages()["messages"]
        check([m["role"] for m in msgs] == ["user", "assistant", "assistant"],
              f"message log roles {[m['role'] for m in msgs]}")
        check(any(b["type"] == "hint" and "slept 2500 ms" in json.dumps(b) for b in msgs[2]["content"]),
              f"the wake-up reply's stored blocks {[b['type'] for b in msgs[2]['content']]}")
        check(env.status() == "idle", f"status {env.status()}")
        time.sleep(0.5)
        check(len(env.requests()) == 3, f"provider requests after the wake-up: {len(env.requests())}")


def _result_within_the_reply(srv, fmt):
    with _background_env(srv, fmt, "bg-same") as (bg, env):
        # The background call ends (1.5 s) while the reply runs another tool
        # (until >= 1.9 s): the next reasoning step takes the result.
        run = env.run("Two sleeps", [
            {"tool_calls": [{"id": "call_bg", "name": "debug_sleep", "arguments": {"ms": 1500}}]},
            {"tool_calls": [{"id": "call_fg", "name": "debug_sleep", "arguments": {"ms": 900}}]},
            {"text": "Both done."}], timeout=10)
        _placeholder(run, "call_bg")
        fg = "".join(e["delta"] for e in run.of("TOOL_RESULT_TEXT_DELTA") if e["tool_call_id"] == "call_fg")
        check(fg == "slept 900 ms", f"inline result {fg!r}")
        hints = _tool_output_hints(run.events)
        check(len(hints) == 1 and "slept 1500 ms" in _hint_text(hints[0]), f"hints {hints}")
        types = [e["type"] for e in run.events]
        last_call = len(types) - 1 - types[::-1].index("MODEL_CALL_START")
        check(types.index("HINT_BLOCK", types.index("TOOL_RESULT_END")) < last_call,
              f"the hint does not precede the last model call: {types}")
        check(run.end["finished_reason"] == "completed", f"REPLY_END {run.end}")
        reqs = env.wait_requests(3, finished=True)
        check("slept 1500 ms" in json.dumps(reqs[2]["body"]), "the third model call did not see the result")
        time.sleep(0.5)
        check(len(env.requests()) == 3, f"a run consumed the inbox and still woke the session: {len(env.requests())}")
        check(len(env.messages()["messages"]) == 2, "a second reply appeared")


def _tool_stop(srv, fmt):
    with _background_env(srv, fmt, "bg-stop") as (bg, env):
        task_id = _start_long_task(env, 30000)
        names = tool_names(env.wait_requests(1)[0])
        check("ToolStop" in names, f"ToolStop is not offered: {names}")
        # runtime 3.3: after the task tools, before the extra (debug) tools.
        stop_at = names.index("ToolStop")
        check(all(names.index(n) < stop_at for n in names if n.startswith("Task"))
              and all(names.index(n) > stop_at for n in names if n.startswith("debug_")),
              f"ToolStop's place among the tools: {names}")

        env.fake.reset()
        run = env.run("Stop it", [
            {"tool_calls": [{"id": "call_stop", "name": "ToolStop", "arguments": {"task_id": task_id}},
                            {"id": "call_bogus", "name": "ToolStop", "arguments": {"task_id": "no-such-task"}}]},
            {"text": "Stopped."}])
        _, results = tool_calls_and_results(env.wait_requests(2, finished=True)[1])
        check(results.get("call_stop", "").strip() == f"Task {task_id} stopped successfully.",
              f"ToolStop result {results.get('call_stop')!r}")
        check(results.get("call_bogus", "").strip() == "TaskNotFoundError: The task no-such-task does not exist.",
              f"ToolStop of an unknown id {results.get('call_bogus')!r}")
        ends = {e["tool_call_id"]: e["state"] for e in run.of("TOOL_RESULT_END")}
        check(ends == {"call_stop": "success", "call_bogus": "error"}, f"TOOL_RESULT_END states {ends}")
        _check_task_cancelled(bg, task_id, "ToolStop")
        time.sleep(0.5)
        check(len(env.requests()) == 2, "a stopped task still delivered a result")


def _start_long_task(env, ms):
    """One turn whose only call moves to the background; returns its task id."""
    first = env.run("Sleep long", [
        {"tool_calls": [{"id": "call_long", "name": "debug_sleep", "arguments": {"ms": ms}}]},
        {"text": "Started."}])
    return _placeholder(first, "call_long")


def _check_task_cancelled(bg, task_id, what):
    line = f"background task {task_id} ended without a result to deliver"
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and line not in bg.log_tail(20000):
        time.sleep(0.05)
    check(line in bg.log_tail(20000), f"{what} left the background task running")


def _check_quick_stop(bg, what):
    t0 = time.monotonic()
    reason = bg.stop()
    took = time.monotonic() - t0
    check(reason is None and took < 5, f"{what}: SIGTERM took {took:.1f}s: {reason}")


@contextlib.contextmanager
def _background_env(srv, fmt, label):
    bg = _server(srv, f"{label}-{fmt}")
    env = ChatEnv(bg, fmt, user=f"{label}-{fmt}")
    try:
        yield bg, env
    finally:
        env.close()
        if bg.alive():
            bg.stop()
        bg.cleanup()


def _delete_cancels(srv, fmt, target):
    with _background_env(srv, fmt, f"bg-del-{target}") as (bg, env):
        task_id = _start_long_task(env, 30000)
        path = f"/sessions/{env.session_id}{env.q()}" if target == "session" else f"/agent/{env.agent_id}"
        r = bg.delete(path, user=env.user)
        check(r.status == 204, f"DELETE {target}: {r.status} {r.body[:200]}")
        _check_task_cancelled(bg, task_id, f"deleting the {target}")
        _check_quick_stop(bg, f"after deleting the {target}")


def _shutdown_cancels(srv, fmt):
    with _background_env(srv, fmt, "bg-shut") as (bg, env):
        _start_long_task(env, 60000)
        _check_quick_stop(bg, "with a background task running")


for _fmt in FORMATS:
    globals()[f"test_offload_then_wake_{_fmt}"] = (lambda fmt: (lambda srv: _offload_then_wake(srv, fmt)))(_fmt)
    globals()[f"test_result_within_the_reply_{_fmt}"] = (lambda fmt: (lambda srv: _result_within_the_reply(srv, fmt)))(_fmt)
    globals()[f"test_tool_stop_{_fmt}"] = (lambda fmt: (lambda srv: _tool_stop(srv, fmt)))(_fmt)
    globals()[f"test_delete_cancels_{_fmt}"] = (lambda fmt: (lambda srv: _delete_cancels(srv, fmt, "session")))(_fmt)
del _fmt


def test_delete_cancels_a_running_reply(srv):
    """api-core 7.3 step 3: the run is cancelled, not waited for."""
    env = ChatEnv(srv, "openai", user="bg-del-running")
    try:
        env.script([{"tool_calls": [{"id": "call_wait", "name": "debug_sleep", "arguments": {"ms": 8000}}]},
                    {"text": "never"}])
        s = env.start("Sleep")
        env.wait_reply_start(s)
        s.wait_type("TOOL_RESULT_START", tool_call_id="call_wait")
        t0 = time.monotonic()
        r = srv.delete(f"/sessions/{env.session_id}{env.q()}", user=env.user)
        took = time.monotonic() - t0
        check(r.status == 204, f"DELETE session: {r.status} {r.body[:200]}")
        check(took < 4, f"DELETE waited {took:.1f}s for the run instead of cancelling it")
        r = srv.get(f"/sessions/{env.session_id}/status{env.q()}", user=env.user)
        check(r.status == 404, f"status of the deleted session: {r.status}")
        time.sleep(0.3)
        check(len(env.requests()) == 1, f"the cancelled run called the model again: {len(env.requests())}")
    finally:
        env.close()


def test_delete_agent_cancels_background_tasks(srv):
    _delete_cancels(srv, "openai", "agent")


def test_shutdown_cancels_background_tasks(srv):
    _shutdown_cancels(srv, "openai")
