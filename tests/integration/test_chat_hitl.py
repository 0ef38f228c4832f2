"""Human in the loop end to end (agentd serve --debug-tools, fake LLM provider).

debug_guarded always asks (a plain ask: the permission engine's fallback), and
debug_external is executed by the client. A reply that needs the user parks: it
emits REQUIRE_USER_CONFIRM / REQUIRE_EXTERNAL_EXECUTION and no REPLY_END, the run
ends and releases the session, the status says what it waits for. POST /chat/ with
USER_CONFIRM_RESULT / EXTERNAL_EXECUTION_RESULT resumes it: a REPLY_START with the
same reply id, the results, the rest of the turn, one persisted reply updated in
place. Interrupting a parked reply closes it; a new message closes it first.

Specs: runtime 4.2-4.3, 4.5.2, 5.2, 6, 7.2, 3.8; data-model 6.
"""

import json
import time

from lib.checks import check
from lib.sse import FORMATS, ChatEnv, tool_calls_and_results

DENIED = '<system-reminder>The execution of tool "debug_guarded" is denied by user!</system-reminder>'
INTERRUPTED = "<system-reminder>The tool call has been interrupted by the user.</system-reminder>"


def output_text(block):
    out = block.get("output")
    if isinstance(out, str):
        return out
    return "".join(b.get("text", "") for b in out or [] if isinstance(b, dict))


def guarded_call(call_id, text):
    return {"tool_calls": [{"id": call_id, "name": "debug_guarded", "arguments": {"text": text}}]}


def park(env, call_id="call_g", text="hi", then=None):
    """Starts a turn whose first model call asks for debug_guarded; returns
    (stream, reply_id, the REQUIRE_USER_CONFIRM event)."""
    env.script([guarded_call(call_id, text)] + (then or [{"text": "All done."}]))
    s = env.start("Please run the guarded tool")
    rid = env.wait_reply_start(s)
    ask = s.wait_type("REQUIRE_USER_CONFIRM").event
    check(env.wait_status("awaiting_permission", timeout=3) == "awaiting_permission",
          f"status while parked: {env.status()}")
    return s, rid, ask


def park_external(env, call_id, then_text):
    """Starts a turn whose first model call is debug_external (the client runs
    it); returns (stream, reply_id, the REQUIRE_EXTERNAL_EXECUTION event)."""
    env.script([{"tool_calls": [{"id": call_id, "name": "debug_external", "arguments": {"query": "q"}}]},
                {"text": then_text}])
    s = env.start("Ask the client")
    rid = env.wait_reply_start(s)
    return s, rid, s.wait_type("REQUIRE_EXTERNAL_EXECUTION").event


def confirm(env, rid, call, confirmed=True, rules=None):
    return env.post_chat(input_={"type": "USER_CONFIRM_RESULT", "reply_id": rid,
                                 "confirm_results": [{"confirmed": confirmed, "tool_call": call,
                                                      "rules": rules}]})


def frames_after(s, index):
    return [f.event for f in s.data_frames()[index:]]


def _ask_then_approve(srv, fmt):
    env = ChatEnv(srv, fmt, user=f"hitl-ok-{fmt}")
    try:
        s, rid, ask = park(env)
        check(ask["reply_id"] == rid and len(ask["tool_calls"]) == 1, f"REQUIRE_USER_CONFIRM {ask}")
        call = ask["tool_calls"][0]
        check(call["id"] == "call_g" and call["name"] == "debug_guarded" and call["state"] == "asking",
              f"the asking call {call}")
        check(call["suggested_rules"] == [{"tool_name": "debug_guarded", "rule_content": "hi",
                                           "behavior": "allow", "source": "suggested"}],
              f"suggested rules {call['suggested_rules']}")
        before = s.data_frames()
        check(not any(f.type == "REPLY_END" for f in before), "a parked reply ended")
        check(not any(f.type == "TOOL_RESULT_START" for f in before), "an asking call started a result")
        reply = env.messages()["messages"][-1]
        check(reply["id"] == rid and reply["finished_reason"] is None,
              f"persisted parked reply {reply['id']} {reply.get('finished_reason')}")
        stored = [b for b in reply["content"] if b["type"] == "tool_call"][0]
        check(stored["state"] == "asking", f"persisted call state {stored['state']}")
        check(env.messages()["is_running"] is False, "is_running while parked")

        mark = len(s.data_frames())
        r = confirm(env, rid, call)
        check(r.status == 200, f"confirm: {r.status} {r.body[:200]}")
        s.wait_frame(lambda e: e.get("type") == "REPLY_END" and e.get("reply_id") == rid,
                     8.0, "REPLY_END of the resumed reply")
        evs = frames_after(s, mark)
        types = [e["type"] for e in evs if e["type"] != "CUSTOM"]
        check(types[0] == "USER_CONFIRM_RESULT" and types[1] == "REPLY_START",
              f"resumed run starts with {types[:3]}")
        check(evs[[e["type"] for e in evs].index("REPLY_START")]["reply_id"] == rid,
              "the continuation REPLY_START has another reply id")
        i = types.index("TOOL_RESULT_START")
        check(types[i:i + 3] == ["TOOL_RESULT_START", "TOOL_RESULT_TEXT_DELTA", "TOOL_RESULT_END"],
              f"result events {types[i:i + 3]}")
        out = [e for e in evs if e["type"] == "TOOL_RESULT_TEXT_DELTA"][0]["delta"]
        check(out == "guarded: hi", f"tool output {out!r}")
        check(types[-1] == "REPLY_END" and evs[-1]["finished_reason"] == "completed", f"end {evs[-1]}")
        check(env.wait_status("idle") == "idle", f"status after the turn {env.status()}")

        msgs = env.messages()["messages"]
        check([m["role"] for m in msgs] == ["user", "assistant"] and msgs[1]["id"] == rid,
              f"message log {[(m['role'], m['id']) for m in msgs]}")
        reply = msgs[1]
        check(reply["finished_reason"] == "completed", f"finished_reason {reply['finished_reason']}")
        kinds = [b["type"] for b in reply["content"]]
        check(kinds.count("tool_result") == 1 and kinds[-1] == "text", f"blocks {kinds}")
        res = [b for b in reply["content"] if b["type"] == "tool_result"][0]
        check(res["state"] == "success", f"result state {res['state']}")
        reqs = env.wait_requests(2, finished=True)
        calls, results = tool_calls_and_results(reqs[1])
        check(results.get("call_g", "").strip() == "guarded: hi", f"model saw {results}")
        check(env.session_view()["session"]["state"]["reply_context"]["cur_iter"] == 2,
              "cur_iter after the approved round and the answer")
    finally:
        env.close()


def _ask_then_deny(srv, fmt):
    env = ChatEnv(srv, fmt, user=f"hitl-deny-{fmt}")
    try:
        s, rid, ask = park(env, then=[{"text": "Understood, not running it."}])
        mark = len(s.data_frames())
        r = confirm(env, rid, ask["tool_calls"][0], confirmed=False)
        check(r.status == 200, f"deny: {r.status} {r.body[:200]}")
        s.wait_frame(lambda e: e.get("type") == "REPLY_END" and e.get("reply_id") == rid, 8.0, "REPLY_END")
        evs = frames_after(s, mark)
        res = [e for e in evs if e["type"].startswith("TOOL_RESULT")]
        check([e["type"] for e in res] == ["TOOL_RESULT_START", "TOOL_RESULT_TEXT_DELTA", "TOOL_RESULT_END"],
              f"denial events {[e['type'] for e in res]}")
        check(res[1]["delta"] == DENIED, f"denial text {res[1]['delta']!r}")
        check(res[2]["state"] == "denied", f"denial state {res[2]}")
        check(evs[-1]["finished_reason"] == "completed", f"end {evs[-1]}")
        reqs = env.wait_requests(2, finished=True)
        _, results = tool_calls_and_results(reqs[1])
        check(results.get("call_g", "").strip() == DENIED, f"model saw {results}")
        reply = env.messages()["messages"][-1]
        res = [b for b in reply["content"] if b["type"] == "tool_result"][0]
        check(res["state"] == "denied" and output_text(res) == DENIED, f"persisted denial {res}")
    finally:
        env.close()


def _approve_with_rule(srv, fmt):
    env = ChatEnv(srv, fmt, user=f"hitl-rule-{fmt}")
    try:
        s, rid, ask = park(env)
        rule = {"tool_name": "debug_guarded", "rule_content": "hi", "behavior": "allow", "source": "user"}
        mark = len(s.data_frames())
        r = confirm(env, rid, ask["tool_calls"][0], rules=[rule])
        check(r.status == 200, f"confirm: {r.status}")
        s.wait_frame(lambda e: e.get("type") == "REPLY_END" and e.get("reply_id") == rid, 8.0, "REPLY_END")
        # Announced once the turn is over, as the reference does: after REPLY_END.
        s.wait_frame(lambda e: e.get("type") == "CUSTOM" and e.get("name") == "state_updated", 3.0,
                     "CUSTOM state_updated", start=mark)
        customs = [e for e in frames_after(s, mark) if e["type"] == "CUSTOM" and e.get("name") == "state_updated"]
        check(customs, "no CUSTOM state_updated after the rule was added")
        pc = customs[0]["value"]["permission_context"]
        check(pc["allow_rules"].get("debug_guarded") == [rule], f"allow rules {pc['allow_rules']}")
        check(env.wait_status("idle") == "idle", "not idle")
        state = env.session_view()["session"]["state"]
        check(state["permission_context"]["allow_rules"].get("debug_guarded") == [rule],
              f"persisted permission_context {state['permission_context']}")

        # The rule matches texts starting with "hi": this call runs without asking.
        run = env.run("Again", [guarded_call("call_g2", "hi there"), {"text": "Ran it."}])
        types = run.types()
        check("REQUIRE_USER_CONFIRM" not in types, f"asked again: {types}")
        out = [e for e in run.events if e["type"] == "TOOL_RESULT_TEXT_DELTA"][0]["delta"]
        check(out == "guarded: hi there" and run.end["finished_reason"] == "completed", f"{out!r} {run.end}")
        # Not covered by the rule: asks.
        env.script([guarded_call("call_g3", "other"), {"text": "x"}])
        s2 = env.start("A third time")
        env.wait_reply_start(s2)
        s2.wait_type("REQUIRE_USER_CONFIRM")
        check(env.wait_status("awaiting_permission", 3) == "awaiting_permission", "did not park")
    finally:
        env.close()


def _external_execution(srv, fmt):
    env = ChatEnv(srv, fmt, user=f"hitl-ext-{fmt}")
    try:
        s, rid, req = park_external(env, "call_x", "The client said 42.")
        call = req["tool_calls"][0]
        check(call["id"] == "call_x" and call["state"] == "submitted", f"submitted call {call}")
        types = [f.type for f in s.data_frames()]
        check(types.index("TOOL_RESULT_START") < types.index("REQUIRE_EXTERNAL_EXECUTION"),
              f"TOOL_RESULT_START precedes the request: {types}")
        check(env.wait_status("awaiting_external_result", 3) == "awaiting_external_result",
              f"status {env.status()}")
        # Answering a confirmation instead is a conflict and changes nothing.
        r = confirm(env, rid, call)
        check(r.status == 409, f"confirmation for a submitted call: {r.status}")
        mark = len(s.data_frames())
        r = env.post_chat(input_={"type": "EXTERNAL_EXECUTION_RESULT", "reply_id": rid, "execution_results": [
            {"type": "tool_result", "id": "call_x", "name": "debug_external", "output": "42",
             "state": "success", "metadata": {"source": "client"}}]})
        check(r.status == 200, f"external result: {r.status} {r.body[:200]}")
        s.wait_frame(lambda e: e.get("type") == "REPLY_END" and e.get("reply_id") == rid, 8.0, "REPLY_END")
        evs = frames_after(s, mark)
        types = [e["type"] for e in evs if e["type"] != "CUSTOM"]
        check(types[:2] == ["EXTERNAL_EXECUTION_RESULT", "REPLY_START"], f"resumed with {types[:3]}")
        check("TOOL_RESULT_START" not in types, "a second TOOL_RESULT_START for the external call")
        i = types.index("TOOL_RESULT_TEXT_DELTA")
        check(types[i + 1] == "TOOL_RESULT_END", f"{types}")
        end = [e for e in evs if e["type"] == "TOOL_RESULT_END"][0]
        check(end["state"] == "success" and end["metadata"] == {"source": "client"}, f"TOOL_RESULT_END {end}")
        reqs = env.wait_requests(2, finished=True)
        _, results = tool_calls_and_results(reqs[1])
        check(results.get("call_x", "").strip() == "42", f"model saw {results}")
        reply = env.messages()["messages"][-1]
        res = [b for b in reply["content"] if b["type"] == "tool_result"]
        check(len(res) == 1 and res[0]["state"] == "success", f"persisted results {res}")
        check(reply["finished_reason"] == "completed", f"{reply['finished_reason']}")
    finally:
        env.close()


def _external_empty_output(srv, fmt):
    """An external result whose output is "" is still a text delta (as in the
    reference): the stored result holds one empty text block."""
    env = ChatEnv(srv, fmt, user=f"hitl-ext-empty-{fmt}")
    try:
        s, rid, _ = park_external(env, "call_e", "Nothing came back.")
        check(env.wait_status("awaiting_external_result", 3) == "awaiting_external_result", f"{env.status()}")
        mark = len(s.data_frames())
        r = env.post_chat(input_={"type": "EXTERNAL_EXECUTION_RESULT", "reply_id": rid, "execution_results": [
            {"type": "tool_result", "id": "call_e", "name": "debug_external", "output": "", "state": "success"}]})
        check(r.status == 200, f"external result: {r.status} {r.body[:200]}")
        s.wait_frame(lambda e: e.get("type") == "REPLY_END" and e.get("reply_id") == rid, 8.0, "REPLY_END")
        deltas = [e for e in frames_after(s, mark) if e["type"] == "TOOL_RESULT_TEXT_DELTA"]
        check(len(deltas) == 1 and deltas[0]["delta"] == "" and deltas[0]["tool_call_id"] == "call_e",
              f"deltas {deltas}")
        reply = env.messages()["messages"][-1]
        res = [b for b in reply["content"] if b["type"] == "tool_result"]
        check(len(res) == 1 and [(b["type"], b["text"]) for b in res[0]["output"]] == [("text", "")],
              f"stored result {res}")
        check(reply["finished_reason"] == "completed", f"{reply['finished_reason']}")
    finally:
        env.close()


def _interrupt_parked(srv, fmt):
    env = ChatEnv(srv, fmt, user=f"hitl-int-{fmt}")
    try:
        s, rid, ask = park(env)
        mark = len(s.data_frames())
        r = env.interrupt()
        check(r.status == 202, f"interrupt: {r.status}")
        s.wait_frame(lambda e: e.get("type") == "REPLY_END" and e.get("reply_id") == rid, 8.0, "REPLY_END")
        evs = frames_after(s, mark)
        types = [e["type"] for e in evs if e["type"] != "CUSTOM"]
        check(types == ["REPLY_START", "TOOL_RESULT_START", "TOOL_RESULT_TEXT_DELTA", "TOOL_RESULT_END",
                        "REPLY_END"], f"interrupt events {types}")
        check(evs[-1]["finished_reason"] == "interrupted", f"{evs[-1]}")
        check(env.wait_status("idle") == "idle", f"status {env.status()}")
        reply = env.messages()["messages"][-1]
        res = [b for b in reply["content"] if b["type"] == "tool_result"][0]
        check(res["state"] == "interrupted" and output_text(res) == INTERRUPTED, f"{res}")
        check(reply["finished_reason"] == "interrupted", f"{reply['finished_reason']}")
        # The answer now comes too late.
        r = confirm(env, rid, ask["tool_calls"][0])
        check(r.status == 409, f"late confirmation: {r.status}")
        # And an idle session's interrupt publishes nothing.
        n = len(s.data_frames())
        check(env.interrupt().status == 202, "interrupt of an idle session")
        import time
        time.sleep(0.3)
        check(len(s.data_frames()) == n, "an idle interrupt published events")
    finally:
        env.close()


def _interrupt_parked_without_a_model(srv, fmt):
    """Closing a parked reply calls no model: after the user removed its
    credential and model configuration, Stop still answers 202 and closes it."""
    env = ChatEnv(srv, fmt, user=f"hitl-int-nomodel-{fmt}")
    try:
        s, rid, _ = park(env)
        r = srv.patch(f"/sessions/{env.session_id}{env.q()}", json={"chat_model_config": None}, user=env.user)
        check(r.status == 200, f"PATCH chat_model_config null: {r.status} {r.body[:200]}")
        r = srv.delete(f"/credential/{env.credential_id}", user=env.user)
        check(r.status == 204, f"DELETE credential: {r.status} {r.body[:200]}")
        mark = len(s.data_frames())
        calls = len(env.requests())
        r = env.interrupt()
        check(r.status == 202, f"interrupt: {r.status} {r.body[:200]}")
        s.wait_frame(lambda e: e.get("type") == "REPLY_END" and e.get("reply_id") == rid, 8.0, "REPLY_END")
        evs = [e for e in frames_after(s, mark) if e["type"] != "CUSTOM"]
        check([e["type"] for e in evs] == ["REPLY_START", "TOOL_RESULT_START", "TOOL_RESULT_TEXT_DELTA",
                                           "TOOL_RESULT_END", "REPLY_END"], f"interrupt events {evs}")
        check(evs[-1]["finished_reason"] == "interrupted", f"{evs[-1]}")
        check(env.wait_status("idle") == "idle", f"status {env.status()}")
        reply = env.messages()["messages"][-1]
        check(reply["id"] == rid and reply["finished_reason"] == "interrupted", f"{reply['finished_reason']}")
        check(len(env.requests()) == calls, "the closing run called the provider")
        # A new message still needs a model: the usual 422, nothing stored.
        n = len(env.messages()["messages"])
        r = env.post_chat("Hello again")
        check(r.status == 422, f"a message without a model configuration: {r.status}")
        check(len(env.messages()["messages"]) == n, "the refused message was stored")
    finally:
        env.close()


def _message_while_parked(srv, fmt):
    env = ChatEnv(srv, fmt, user=f"hitl-msg-{fmt}")
    try:
        s, rid, ask = park(env, then=[{"text": "Sure, something else."}])
        r = env.post_chat(input_=None)
        check(r.status == 409, f"null input while parked: {r.status}")
        r = env.post_chat("Never mind, do something else")
        check(r.status == 200, f"message while parked: {r.status} {r.body[:200]}")
        s.wait_frame(lambda e: e.get("type") == "REPLY_END" and e.get("reply_id") == rid, 8.0,
                     "the parked reply's REPLY_END")
        new_rid = env.wait_reply_start(s)
        run = env.collect(s, new_rid)
        check(run.end["finished_reason"] == "completed" and run.text() == "Sure, something else.",
              f"new reply {run.end} {run.text()!r}")
        frames = s.data_frames()
        old_end = [f.event for f in frames if f.type == "REPLY_END" and f.event["reply_id"] == rid][0]
        check(old_end["finished_reason"] == "interrupted", f"old reply ended {old_end}")
        msgs = env.messages()["messages"]
        check([m["role"] for m in msgs] == ["user", "assistant", "user", "assistant"],
              f"log {[(m['role'], m['id']) for m in msgs]}")
        check(msgs[1]["id"] == rid and msgs[1]["finished_reason"] == "interrupted", f"{msgs[1]['finished_reason']}")
        check(not any(m.get("finished_reason") == "error" for m in msgs), "a spurious error reply")
        reqs = env.wait_requests(2, finished=True)
        calls, results = tool_calls_and_results(reqs[1])
        check(results.get("call_g", "").strip() == INTERRUPTED, f"model saw {results}")
    finally:
        env.close()


def _conflicts(srv, fmt):
    env = ChatEnv(srv, fmt, user=f"hitl-409-{fmt}")
    try:
        run = env.run("Hello", [{"text": "Hi."}])
        fake_call = {"type": "tool_call", "id": "nope", "name": "debug_guarded", "input": "{}"}
        r = confirm(env, run.reply_id, fake_call)
        check(r.status == 409 and "detail" in r.json(), f"confirmation with nothing parked: {r.status}")
        s, rid, ask = park(env)
        r = confirm(env, "not-the-reply", ask["tool_calls"][0])
        check(r.status == 409, f"wrong reply id: {r.status}")
        r = confirm(env, rid, dict(ask["tool_calls"][0], id="other"))
        check(r.status == 409, f"unknown call id: {r.status}")
        r = env.post_chat(input_={"type": "EXTERNAL_EXECUTION_RESULT", "reply_id": rid, "execution_results": [
            {"type": "tool_result", "id": "call_g", "name": "debug_guarded", "output": "x", "state": "success"}]})
        check(r.status == 409, f"external result for an asking call: {r.status}")
        check(env.status() == "awaiting_permission", "a rejected answer moved the reply")
        r = confirm(env, rid, ask["tool_calls"][0])
        check(r.status == 200, f"the right answer: {r.status}")
        # Let the resumed run finish: the fake provider is shared with the next test.
        s.wait_frame(lambda e: e.get("type") == "REPLY_END" and e.get("reply_id") == rid, 8.0, "REPLY_END")
        env.wait_status("idle")
    finally:
        env.close()


def _modes(srv, fmt):
    env = ChatEnv(srv, fmt, user=f"hitl-modes-{fmt}")
    try:
        def patch_mode(mode):
            r = srv.patch(f"/sessions/{env.session_id}{env.q()}", json={"permission_mode": mode}, user=env.user)
            check(r.status == 200, f"PATCH permission_mode {mode}: {r.status} {r.body[:200]}")

        patch_mode("explore")
        run = env.run("Explore", [guarded_call("call_e", "x"), {"text": "Denied."}])
        res = [e for e in run.events if e["type"] == "TOOL_RESULT_END"]
        check(res and res[0]["state"] == "denied", f"explore: {res}")
        check("REQUIRE_USER_CONFIRM" not in run.types(), "explore asked")
        patch_mode("dont_ask")
        run = env.run("Unattended", [guarded_call("call_d", "x"), {"text": "Denied."}])
        res = [e for e in run.events if e["type"] == "TOOL_RESULT_END"]
        check(res and res[0]["state"] == "denied", f"dont_ask: {res}")
        patch_mode("bypass")
        run = env.run("Bypass", [guarded_call("call_b", "x"), {"text": "Ran."}])
        res = [e for e in run.events if e["type"] == "TOOL_RESULT_END"]
        check(res and res[0]["state"] == "success", f"bypass: {res}")
        # Parked in default mode, switched to bypass while parked: the approval
        # resumes, and the next call needs no prompt.
        patch_mode("default")
        s, rid, ask = park(env, then=[guarded_call("call_n", "next"), {"text": "Both ran."}])
        patch_mode("bypass")
        r = confirm(env, rid, ask["tool_calls"][0])
        check(r.status == 200, f"confirm {r.status}")
        s.wait_frame(lambda e: e.get("type") == "REPLY_END" and e.get("reply_id") == rid, 8.0, "REPLY_END")
        ends = [e for e in s.events() if e["type"] == "TOOL_RESULT_END" and e["reply_id"] == rid]
        check([e["state"] for e in ends] == ["success", "success"], f"{ends}")
    finally:
        env.close()


def _restart_while_parked(srv, fmt):
    env = ChatEnv(srv, fmt, user=f"hitl-restart-{fmt}")
    try:
        s, rid, ask = park(env, then=[{"text": "Done after the restart."}])
        env.close()
        srv.restart()
        check(env.status() == "awaiting_permission", f"status after restart: {env.status()}")
        s = env.stream()
        r = confirm(env, rid, ask["tool_calls"][0])
        check(r.status == 200, f"confirm after restart: {r.status} {r.body[:200]}")
        s.wait_frame(lambda e: e.get("type") == "REPLY_END" and e.get("reply_id") == rid, 8.0, "REPLY_END")
        check(env.wait_status("idle") == "idle", "not idle")
        reply = env.messages()["messages"][-1]
        check(reply["id"] == rid and reply["finished_reason"] == "completed"
              and reply["content"][-1]["text"] == "Done after the restart.", f"{reply}")
    finally:
        env.close()


for _fmt in FORMATS:
    def _make(fn, fmt):
        def test(srv):
            fn(srv, fmt)
        return test
    for _fn in (_ask_then_approve, _ask_then_deny, _approve_with_rule, _external_execution,
                _external_empty_output, _interrupt_parked, _interrupt_parked_without_a_model, _message_while_parked, _conflicts, _modes, _restart_while_parked):
        globals()[f"test{_fn.__name__}_{_fmt}"] = _make(_fn, _fmt)
del _fmt, _fn


def _real_bash(srv, fmt):
    """The built-in Bash tool in the session's workspace: a read-only command runs
    at once, a write asks, and once approved it changes the workspace."""
    env = ChatEnv(srv, fmt, user=f"hitl-bash-{fmt}")
    try:
        run = env.run("List", [{"tool_calls": [{"id": "call_ls", "name": "Bash",
                                                 "arguments": {"command": "pwd"}}]}, {"text": "Listed."}])
        check("REQUIRE_USER_CONFIRM" not in run.types(), f"read-only command asked: {run.types()}")
        workdir = "".join(e["delta"] for e in run.events if e["type"] == "TOOL_RESULT_TEXT_DELTA").strip()
        check(workdir.startswith("/"), f"pwd printed {workdir!r}")
        env.script([{"tool_calls": [{"id": "call_t", "name": "Bash",
                                     "arguments": {"command": "touch made.txt && echo created"}}]},
                    {"text": "Created."}])
        s = env.start("Create a file")
        rid = env.wait_reply_start(s)
        ask = s.wait_type("REQUIRE_USER_CONFIRM").event
        call = ask["tool_calls"][0]
        check(call["name"] == "Bash" and call["suggested_rules"], f"Bash ask {call}")
        r = confirm(env, rid, call)
        check(r.status == 200, f"confirm {r.status}")
        s.wait_frame(lambda e: e.get("type") == "REPLY_END" and e.get("reply_id") == rid, 8.0, "REPLY_END")
        outs = [e["delta"] for e in s.events() if e["type"] == "TOOL_RESULT_TEXT_DELTA" and e["reply_id"] == rid]
        check("".join(outs).strip() == "created", f"Bash output {outs}")
        st = srv.get(f"/workspace/directories?agent_id={env.agent_id}&session_id={env.session_id}", user=env.user)
        check(st.status == 200 and "made.txt" in [e["name"] for e in st.json()["entries"]],
              f"workspace listing {st.status} {st.body[:300]}")
    finally:
        env.close()


def _approval_is_stored(srv, fmt):
    """The stored reply takes the answer in when the run resumes: while an
    approved call runs, the message log shows it allowed, not still asking."""
    env = ChatEnv(srv, fmt, user=f"hitl-stored-{fmt}")
    try:
        env.script([{"tool_calls": [{"id": "call_s", "name": "Bash",
                                     "arguments": {"command": "touch slow.txt && sleep 2 && echo slept"}}]},
                    {"text": "Slept."}])
        s = env.start("Sleep")
        rid = env.wait_reply_start(s)
        call = s.wait_type("REQUIRE_USER_CONFIRM").event["tool_calls"][0]
        check(env.wait_status("awaiting_permission", 3) == "awaiting_permission", f"{env.status()}")
        check(confirm(env, rid, call).status == 200, "confirm")
        s.wait_type("TOOL_RESULT_START")
        seen = None
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            reply = env.messages()["messages"][-1]
            calls = [b for b in reply["content"] if b["type"] == "tool_call"]
            seen = calls[0]["state"] if calls else None
            if seen != "asking":
                break
            time.sleep(0.05)
        check(seen == "allowed", f"the stored call while it runs: {seen}")
        s.wait_frame(lambda e: e.get("type") == "REPLY_END" and e.get("reply_id") == rid, 8.0, "REPLY_END")
        reply = env.messages()["messages"][-1]
        check([b["state"] for b in reply["content"] if b["type"] == "tool_call"] == ["finished"], f"{reply}")
    finally:
        env.close()


for _fmt in FORMATS:
    globals()[f"test_real_bash_{_fmt}"] = (lambda fmt: (lambda srv: _real_bash(srv, fmt)))(_fmt)
    globals()[f"test_approval_is_stored_{_fmt}"] = (lambda fmt: (lambda srv: _approval_is_stored(srv, fmt)))(_fmt)
del _fmt


def _ask_then_external(srv, fmt):
    """spec 6.4: approved, then executed by the client: two parks in one reply."""
    env = ChatEnv(srv, fmt, user=f"hitl-mixed-{fmt}")
    try:
        env.script([{"tool_calls": [{"id": "call_m", "name": "debug_guarded_external",
                                     "arguments": {"query": "q"}}]},
                    {"text": "Mixed done.", "first_byte_delay_ms": 800}])
        s = env.start("Mixed")
        rid = env.wait_reply_start(s)
        ask = s.wait_type("REQUIRE_USER_CONFIRM").event
        check(env.wait_status("awaiting_permission", 3) == "awaiting_permission", "first park")
        check(confirm(env, rid, ask["tool_calls"][0]).status == 200, "confirm")
        req = s.wait_type("REQUIRE_EXTERNAL_EXECUTION").event
        check(req["reply_id"] == rid and req["tool_calls"][0]["state"] == "submitted", f"{req}")
        check(env.wait_status("awaiting_external_result", 3) == "awaiting_external_result",
              f"second park: {env.status()}")
        r = env.post_chat(input_={"type": "EXTERNAL_EXECUTION_RESULT", "reply_id": rid, "execution_results": [
            {"type": "tool_result", "id": "call_m", "name": "debug_guarded_external", "output": "7",
             "state": "success"}]})
        check(r.status == 200, f"external result {r.status}")
        # While the resumed run waits for the model, the stored reply is still in
        # progress: its external call's open result block is not a crash remnant.
        env.wait_requests(2)
        mid = env.messages()["messages"][-1]
        check(mid["id"] == rid and mid["finished_reason"] is None,
              f"reply while resumed: {mid['id']} {mid['finished_reason']}")
        s.wait_frame(lambda e: e.get("type") == "REPLY_END" and e.get("reply_id") == rid, 8.0, "REPLY_END")
        starts = [e for e in s.events() if e["type"] == "TOOL_RESULT_START" and e["reply_id"] == rid]
        check(len(starts) == 1, f"TOOL_RESULT_START count {len(starts)}")
        reply = env.messages()["messages"][-1]
        check(reply["finished_reason"] == "completed", f"{reply['finished_reason']}")
    finally:
        env.close()


for _fmt in FORMATS:
    globals()[f"test_ask_then_external_{_fmt}"] = (lambda fmt: (lambda srv: _ask_then_external(srv, fmt)))(_fmt)


def _answer_while_a_sibling_runs(srv, fmt):
    """A concurrent batch: one call asks while its sibling still runs (4 s, past
    any wait for the lock). The user answers at once: 200, the answer is queued,
    and the reply resumes with it as soon as the batch has parked."""
    env = ChatEnv(srv, fmt, user=f"hitl-queued-{fmt}")
    try:
        env.script([{"tool_calls": [
            {"id": "call_p", "name": "debug_guarded_parallel", "arguments": {"text": "p"}},
            {"id": "call_s", "name": "debug_sleep_parallel", "arguments": {"ms": 4000}}]},
            {"text": "Both done."}])
        s = env.start("Ask and sleep")
        rid = env.wait_reply_start(s)
        ask = s.wait_type("REQUIRE_USER_CONFIRM").event
        call = ask["tool_calls"][0]
        check(call["id"] == "call_p", f"the asking call {call}")
        check(not any(f.type == "TOOL_RESULT_END" and f.event.get("tool_call_id") == "call_s"
                      for f in s.data_frames()), "the sibling finished before the answer")
        started = time.monotonic()
        r = confirm(env, rid, call)
        answered = time.monotonic() - started
        check(r.status == 200, f"confirm while the batch runs: {r.status} {r.body[:200]}")
        check(answered < 2.0, f"the answer waited {answered:.1f} s for the session")
        s.wait_frame(lambda e: e.get("type") == "REPLY_END" and e.get("reply_id") == rid,
                     15.0, "REPLY_END of the resumed reply")
        results = {e["tool_call_id"]: e["state"] for e in s.events()
                   if e["type"] == "TOOL_RESULT_END" and e["reply_id"] == rid}
        check(results == {"call_p": "success", "call_s": "success"}, f"results {results}")
        end = [e for e in s.events() if e["type"] == "REPLY_END"][-1]
        check(end["finished_reason"] == "completed", f"end {end}")
        reqs = env.wait_requests(2, finished=True)
        _, seen = tool_calls_and_results(reqs[1])
        check(seen.get("call_p", "").strip() == "guarded: p" and "slept" in seen.get("call_s", ""),
              f"model saw {seen}")
        check(env.wait_status("idle") == "idle", f"status {env.status()}")
    finally:
        env.close()


for _fmt in FORMATS:
    globals()[f"test_answer_while_a_sibling_runs_{_fmt}"] = (
        lambda fmt: (lambda srv: _answer_while_a_sibling_runs(srv, fmt)))(_fmt)
del _fmt
