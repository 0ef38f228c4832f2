"""Tool calls end to end (agentd serve --debug-tools, fake LLM provider): event
order, results fed back to the model, cur_iter, error results, persistence after
every step.

Specs: data-model 6.3-6.5; runtime 4.3-4.7, 3.7.2; api-core 7.1 (reply_context is
not trimmed in GET /sessions/), 7.6. Each test runs for OpenAI and Anthropic.
"""

import json
import os

from lib.checks import check
from lib.pdf import make_pdf
from lib.sse import FORMATS, ChatEnv, check_frames, collapse, same, tool_calls_and_results

MODEL_ROUND_TOOLS = ["MODEL_CALL_START", "TOOL_CALL_START", "TOOL_CALL_DELTA+", "TOOL_CALL_END",
                     "MODEL_CALL_END"]
RESULT = ["TOOL_RESULT_START", "TOOL_RESULT_TEXT_DELTA+", "TOOL_RESULT_END"]
FINAL_TEXT = ["MODEL_CALL_START", "TEXT_BLOCK_START", "TEXT_BLOCK_DELTA+", "TEXT_BLOCK_END",
              "MODEL_CALL_END", "REPLY_END"]


def result_events(run, call_id):
    return [e for e in run.events if e["type"].startswith("TOOL_RESULT")
            and e.get("tool_call_id") == call_id]


def result_text(block):
    out = block.get("output")
    if isinstance(out, str):
        return out
    return "".join(b.get("text", "") for b in out or [] if isinstance(b, dict))


def blocks_of(reply, btype):
    return [b for b in reply["content"] if b["type"] == btype]


def cur_iter(env):
    return env.session_view()["session"]["state"]["reply_context"]


def _one_tool_call(srv, fmt):
    env = ChatEnv(srv, fmt, user=f"tool1-{fmt}")
    try:
        run = env.run("Echo ping please", [
            {"text": "Let me echo.", "tool_calls": [
                {"id": "call_echo1", "name": "debug_echo", "arguments": {"text": "ping"}}]},
            {"text": "The tool said ping."}])
        check_frames(run.frames)
        types = collapse(run.types())
        want = (["REPLY_START", "HINT_BLOCK", "MODEL_CALL_START", "TEXT_BLOCK_START",
                 "TEXT_BLOCK_DELTA+", "TEXT_BLOCK_END"] + MODEL_ROUND_TOOLS[1:] + RESULT
                + FINAL_TEXT)
        check(types == want, f"event sequence {types}")
        rid = run.reply_id
        base = {"id": "<str>", "created_at": "<timestamp>", "metadata": {}}
        same({**base, "type": "TOOL_CALL_START", "reply_id": rid, "tool_call_id": "call_echo1",
              "tool_call_name": "debug_echo"}, run.of("TOOL_CALL_START")[0], "TOOL_CALL_START")
        args = "".join(e["delta"] for e in run.of("TOOL_CALL_DELTA"))
        check(json.loads(args) == {"text": "ping"}, f"tool call deltas join to {args!r}")
        check(all(e["tool_call_id"] == "call_echo1" for e in run.of("TOOL_CALL_DELTA")),
              "a delta with another tool_call_id")
        same({**base, "type": "TOOL_CALL_END", "reply_id": rid, "tool_call_id": "call_echo1"},
             run.of("TOOL_CALL_END")[0], "TOOL_CALL_END")
        same({**base, "type": "TOOL_RESULT_START", "reply_id": rid, "tool_call_id": "call_echo1",
              "tool_call_name": "debug_echo"}, run.of("TOOL_RESULT_START")[0], "TOOL_RESULT_START")
        out = "".join(e["delta"] for e in run.of("TOOL_RESULT_TEXT_DELTA"))
        check(out == "ping", f"tool result deltas join to {out!r}")
        same({**base, "type": "TOOL_RESULT_END", "reply_id": rid, "tool_call_id": "call_echo1",
              "state": "success"}, run.of("TOOL_RESULT_END")[0], "TOOL_RESULT_END")
        check(run.end["finished_reason"] == "completed", f"REPLY_END {run.end}")
        texts = [e for e in run.events if e["type"] == "TEXT_BLOCK_START"]
        check(len({t["block_id"] for t in texts}) == 2, "the two text blocks share a block_id")

        reqs = env.wait_requests(2, finished=True)
        check(len(reqs) == 2, f"provider got {len(reqs)} requests")
        calls, results = tool_calls_and_results(reqs[1])
        check([(c[0], c[1]) for c in calls] == [("call_echo1", "debug_echo")]
              and json.loads(calls[0][2]) == {"text": "ping"},
              f"second request's tool calls {calls}")
        check(results.get("call_echo1", "").strip() == "ping", f"second request's results {results}")
        check(tool_calls_and_results(reqs[0]) == ([], {}), "first request already had tool calls")

        reply = env.messages()["messages"][-1]
        check([b["type"] for b in reply["content"]] == ["hint", "text", "tool_call", "tool_result",
                                                         "text"],
              f"persisted blocks {[b['type'] for b in reply['content']]}")
        same({"type": "tool_call", "id": "call_echo1", "name": "debug_echo",
              "input": '{"text": "ping"}', "state": "finished", "suggested_rules": [],
              "created_at": "<timestamp>", "finished_at": "<timestamp>"},
             reply["content"][2], "persisted tool_call")
        same({"type": "tool_result", "id": "call_echo1", "name": "debug_echo",
              "output": [{"type": "text", "text": "ping", "id": "<str>",
                          "created_at": "<timestamp>", "finished_at": "<any>"}],
              "state": "success", "metadata": {}, "created_at": "<timestamp>",
              "finished_at": "<timestamp>"}, reply["content"][3], "persisted tool_result")
        check(reply["content"][1]["text"] == "Let me echo."
              and reply["content"][4]["text"] == "The tool said ping.",
              "persisted texts differ")
        same({"reply_id": rid, "cur_iter": 2}, cur_iter(env),
             "reply_context after one tool round + the answer", subset=True)
        check(env.status() == "idle", f"status {env.status()}")
    finally:
        env.close()


def _several_calls_one_response(srv, fmt):
    env = ChatEnv(srv, fmt, user=f"toolN-{fmt}")
    try:
        run = env.run("Echo a and b", [
            {"tool_calls": [
                {"id": "call_a", "name": "debug_echo", "arguments": {"text": "alpha"}},
                {"id": "call_b", "name": "debug_echo", "arguments": {"text": "beta"}}]},
            {"text": "Both done."}])
        check_frames(run.frames)
        types = collapse(run.types())
        # data-model 6.4: per chunk, calls in the chunk get START (once) and DELTA, then
        # open calls absent from the chunk get END. So the chunk that opens call_b
        # gives START b, DELTA b, END a; call_b ends when the stream is flushed.
        head = ["REPLY_START", "HINT_BLOCK", "MODEL_CALL_START", "TOOL_CALL_START",
                "TOOL_CALL_DELTA+", "TOOL_CALL_START", "TOOL_CALL_DELTA+", "TOOL_CALL_END",
                "TOOL_CALL_DELTA+", "TOOL_CALL_END", "MODEL_CALL_END"]
        check(types[:len(head)] == head and types[-len(FINAL_TEXT):] == FINAL_TEXT,
              f"event sequence {types}")
        calls = [(e["type"], e["tool_call_id"]) for e in run.events
                 if e["type"] in ("TOOL_CALL_START", "TOOL_CALL_END")]
        check(calls == [("TOOL_CALL_START", "call_a"), ("TOOL_CALL_START", "call_b"),
                        ("TOOL_CALL_END", "call_a"), ("TOOL_CALL_END", "call_b")],
              f"tool call start/end order {calls}")
        evs = run.events
        end_a = next(i for i, e in enumerate(evs) if e["type"] == "TOOL_CALL_END")
        start_b = next(i for i, e in enumerate(evs) if e["type"] == "TOOL_CALL_START"
                       and e["tool_call_id"] == "call_b")
        deltas = [(i, e["tool_call_id"]) for i, e in enumerate(evs) if e["type"] == "TOOL_CALL_DELTA"]
        check(all(i < start_b for i, c in deltas if c == "call_a")
              and all(i > start_b for i, c in deltas if c == "call_b") and start_b < end_a,
              f"deltas out of order: {deltas}, START b at {start_b}, END a at {end_a}")
        for cid, word in (("call_a", "alpha"), ("call_b", "beta")):
            args = "".join(e["delta"] for e in run.of("TOOL_CALL_DELTA") if e["tool_call_id"] == cid)
            check(json.loads(args) == {"text": word}, f"{cid} arguments {args!r}")
            evs = result_events(run, cid)
            check(collapse([e["type"] for e in evs]) == RESULT, f"{cid} result events "
                                                                f"{[e['type'] for e in evs]}")
            check("".join(e.get("delta", "") for e in evs) == word and evs[-1]["state"] == "success",
                  f"{cid} result {evs}")
        middle = types[len(head):-len(FINAL_TEXT)]
        check(all(t.startswith("TOOL_RESULT") or t == "CUSTOM" for t in middle),
              f"between the model calls: {middle}")
        reqs = env.wait_requests(2, finished=True)
        calls, results = tool_calls_and_results(reqs[1])
        check([c[0] for c in calls] == ["call_a", "call_b"], f"second request's calls {calls}")
        check({k: v.strip() for k, v in results.items()} == {"call_a": "alpha", "call_b": "beta"},
              f"second request's results {results}")
        reply = env.messages()["messages"][-1]
        check([(b["id"], b["state"]) for b in blocks_of(reply, "tool_call")]
              == [("call_a", "finished"), ("call_b", "finished")],
              f"persisted calls {blocks_of(reply, 'tool_call')}")
        check(sorted((b["id"], b["state"], result_text(b)) for b in blocks_of(reply, "tool_result"))
              == [("call_a", "success", "alpha"), ("call_b", "success", "beta")],
              f"persisted results {blocks_of(reply, 'tool_result')}")
        same({"cur_iter": 2}, cur_iter(env), "reply_context", subset=True)
    finally:
        env.close()


def _multi_round(srv, fmt):
    env = ChatEnv(srv, fmt, user=f"rounds-{fmt}")
    try:
        run = env.run("Two rounds", [
            {"tool_calls": [{"id": "call_r1", "name": "debug_echo", "arguments": {"text": "one"}}]},
            {"tool_calls": [{"id": "call_r2", "name": "debug_echo", "arguments": {"text": "two"}}]},
            {"text": "Done after two rounds."}])
        types = collapse(run.types())
        want = (["REPLY_START", "HINT_BLOCK"] + MODEL_ROUND_TOOLS + RESULT + MODEL_ROUND_TOOLS
                + RESULT + FINAL_TEXT)
        check(types == want, f"event sequence {types}")
        reqs = env.wait_requests(3, finished=True)
        check(len(reqs) == 3, f"provider got {len(reqs)} requests")
        c2, r2 = tool_calls_and_results(reqs[1])
        c3, r3 = tool_calls_and_results(reqs[2])
        check([c[0] for c in c2] == ["call_r1"] and r2.get("call_r1", "").strip() == "one",
              f"second request: calls {c2} results {r2}")
        check([c[0] for c in c3] == ["call_r1", "call_r2"]
              and {k: v.strip() for k, v in r3.items()} == {"call_r1": "one", "call_r2": "two"},
              f"third request: calls {c3} results {r3}")
        same({"reply_id": run.reply_id, "cur_iter": 3}, cur_iter(env),
             "reply_context after two tool rounds + the answer", subset=True)
        page = env.messages()
        check(len(page["messages"]) == 2, f"{len(page['messages'])} messages, expected user + reply")
        check(page["messages"][-1]["finished_reason"] == "completed", "reply not completed")
    finally:
        env.close()


def _unknown_tool(srv, fmt):
    env = ChatEnv(srv, fmt, user=f"unknown-{fmt}")
    try:
        run = env.run("Use a tool that does not exist", [
            {"tool_calls": [{"id": "call_nx", "name": "no_such_tool", "arguments": {"x": 1}}]},
            {"text": "That tool is missing."}])
        evs = result_events(run, "call_nx")
        check(collapse([e["type"] for e in evs]) == RESULT, f"result events {evs}")
        check(evs[0]["tool_call_name"] == "no_such_tool", f"TOOL_RESULT_START {evs[0]}")
        text = "".join(e.get("delta", "") for e in evs)
        check("ToolNotFoundError" in text, f"error text {text!r}")
        check(evs[-1]["state"] == "error", f"TOOL_RESULT_END state {evs[-1]['state']}")
        check(run.end["finished_reason"] == "completed", f"REPLY_END {run.end}")
        reqs = env.wait_requests(2, finished=True)
        _, results = tool_calls_and_results(reqs[1])
        check("ToolNotFoundError" in results.get("call_nx", ""), f"result sent back: {results}")
        reply = env.messages()["messages"][-1]
        res = blocks_of(reply, "tool_result")
        check(len(res) == 1 and res[0]["state"] == "error" and "ToolNotFoundError" in result_text(res[0]),
              f"persisted result {res}")
        check(blocks_of(reply, "tool_call")[0]["state"] == "finished", "call not finished")
    finally:
        env.close()


def _failing_tool(srv, fmt):
    env = ChatEnv(srv, fmt, user=f"fail-{fmt}")
    try:
        run = env.run("Call the failing tool", [
            {"tool_calls": [{"id": "call_f", "name": "debug_fail", "arguments": {}}]},
            {"text": "The tool failed, sorry."}])
        evs = result_events(run, "call_f")
        check(collapse([e["type"] for e in evs]) == RESULT, f"result events {evs}")
        check(evs[-1]["state"] == "error", f"TOOL_RESULT_END state {evs[-1]['state']}")
        check("".join(e.get("delta", "") for e in evs).strip(), "empty error text")
        check(run.end["finished_reason"] == "completed" and run.end["error"] is None,
              f"the reply did not continue: {run.end}")
        check(run.text() == "The tool failed, sorry.", f"final text {run.text()!r}")
        reqs = env.wait_requests(2, finished=True)
        _, results = tool_calls_and_results(reqs[1])
        check(results.get("call_f", "").strip(), f"no error result sent back: {results}")
        reply = env.messages()["messages"][-1]
        check([b["state"] for b in blocks_of(reply, "tool_result")] == ["error"],
              f"persisted results {blocks_of(reply, 'tool_result')}")
    finally:
        env.close()


def _persisted_each_step(srv, fmt):
    env = ChatEnv(srv, fmt, user=f"steps-{fmt}")
    try:
        env.script([
            {"tool_calls": [{"id": "call_s1", "name": "debug_echo", "arguments": {"text": "first"}}]},
            {"tool_calls": [{"id": "call_s2", "name": "debug_sleep", "arguments": {"ms": 1500}}]},
            {"text": "All rounds done."}])
        s = env.start("Step by step")
        rid = env.wait_reply_start(s)
        s.wait_type("TOOL_RESULT_START", tool_call_id="call_s2")
        page = env.messages()
        check(page["is_running"] is True, "is_running false during the run")
        reply = page["messages"][-1]
        check(reply["id"] == rid and reply["role"] == "assistant",
              f"the in-progress reply is not in the message log: {[m['id'] for m in page['messages']]}")
        calls = {b["id"]: b for b in blocks_of(reply, "tool_call")}
        results = {b["id"]: b for b in blocks_of(reply, "tool_result")}
        check("call_s1" in calls and calls["call_s1"]["state"] == "finished",
              f"first round's call in the log: {calls.get('call_s1')}")
        check("call_s1" in results and results["call_s1"]["state"] == "success"
              and result_text(results["call_s1"]) == "first",
              f"first round's result in the log: {results.get('call_s1')}")
        check("call_s2" in calls, "second round's tool call not persisted before it runs")
        check(reply["finished_reason"] is None, f"finished_reason {reply['finished_reason']}")
        same({"reply_id": rid, "cur_iter": 1}, cur_iter(env),
             "reply_context while the second round's tool runs", subset=True)
        check(env.status() == "running", f"status {env.status()}")
        run = env.collect(s, rid)
        check(run.end["finished_reason"] == "completed", f"REPLY_END {run.end}")
        same({"cur_iter": 3}, cur_iter(env), "reply_context at the end", subset=True)
        page = env.messages()
        ids = [m["id"] for m in page["messages"]]
        check(len(ids) == 2 and len(set(ids)) == 2, f"message ids {ids}")
    finally:
        env.close()


def test_streamed_tool_output_openai(srv):
    env = ChatEnv(srv, "openai", user="chunks")
    try:
        run = env.run("Stream three lines", [
            {"tool_calls": [{"id": "call_c", "name": "debug_chunks", "arguments": {"count": 3}}]},
            {"text": "Three lines."}])
        evs = result_events(run, "call_c")
        check([e["type"] for e in evs] == ["TOOL_RESULT_START"] + ["TOOL_RESULT_TEXT_DELTA"] * 3
              + ["TOOL_RESULT_END"], f"result events {[e['type'] for e in evs]}")
        check([e["delta"] for e in evs[1:4]] == ["line 1\n", "line 2\n", "line 3\n"],
              f"deltas {[e['delta'] for e in evs[1:4]]}")
        res = blocks_of(env.messages()["messages"][-1], "tool_result")[0]
        check(isinstance(res["output"], list) and len(res["output"]) == 1
              and res["output"][0]["text"] == "line 1\nline 2\nline 3\n",
              f"text deltas are not folded into one text block: {res['output']}")
    finally:
        env.close()


def _read_pdf(srv, fmt):
    """Read of a PDF in the session's workspace: the model gets each page's text, and
    a bad page range or a broken document is an error result, not a failed run."""
    env = ChatEnv(srv, fmt, user=f"readpdf-{fmt}")
    try:
        r = srv.get(f"/workspace/status?agent_id={env.agent_id}&session_id={env.session_id}", user=env.user)
        check(r.status == 200, f"GET /workspace/status: {r.status}")
        workdir = r.json()["workdir"]
        check(os.path.isdir(workdir), f"the chat server's workspace {workdir!r} is not a host folder")
        with open(os.path.join(workdir, "report.pdf"), "wb") as f:
            f.write(make_pdf(["Quarterly report\nRevenue grew", "Second page"]))
        with open(os.path.join(workdir, "broken.pdf"), "wb") as f:
            f.write(b"%PDF-1.4 nothing else")
        run = env.run("Read the report", [
            {"tool_calls": [
                {"id": "call_all", "name": "Read", "arguments": {"file_path": f"{workdir}/report.pdf"}},
                {"id": "call_p2", "name": "Read", "arguments": {"file_path": f"{workdir}/report.pdf", "pages": "2"}},
                {"id": "call_bad", "name": "Read", "arguments": {"file_path": f"{workdir}/report.pdf", "pages": "3"}},
                {"id": "call_broken", "name": "Read", "arguments": {"file_path": f"{workdir}/broken.pdf"}}]},
            {"text": "Revenue grew."}])
        check(run.end["finished_reason"] == "completed", f"REPLY_END {run.end}")
        states = {e["tool_call_id"]: e["state"] for e in run.of("TOOL_RESULT_END")}
        check(states == {"call_all": "success", "call_p2": "success", "call_bad": "error", "call_broken": "error"},
              f"result states {states}")
        _, results = tool_calls_and_results(env.wait_requests(2, finished=True)[1])
        want = {
            "call_all": "--- Page 1/2 ---\nQuarterly report\nRevenue grew\n\n--- Page 2/2 ---\nSecond page",
            "call_p2": "--- Page 2/2 ---\nSecond page",
            "call_bad": "Error: Invalid pages '3'. PDF has 2 page(s).",
        }
        for call_id, text in want.items():
            check(results.get(call_id, "").strip() == text, f"{call_id}: the model saw {results.get(call_id)!r}")
        broken = results.get("call_broken", "")
        check(broken.startswith("Error reading PDF: ") and len(broken) > len("Error reading PDF: "),
              f"call_broken: the model saw {broken!r}")
    finally:
        env.close()


for _fmt in FORMATS:
    def _make(fn, fmt):
        def test(srv):
            fn(srv, fmt)
        return test
    for _fn in (_one_tool_call, _several_calls_one_response, _multi_round, _unknown_tool,
                _failing_tool, _persisted_each_step, _read_pdf):
        globals()[f"test{_fn.__name__}_{_fmt}"] = _make(_fn, _fmt)
del _fmt, _fn
