"""Chat runs end to end over HTTP with the fake LLM provider: event sequence, SSE
framing (Agentd: `id:` on every frame, resume by Last-Event-ID or ?last_event_id=,
log kept after the run), the reply rebuilt from the events, what the provider got.

Specs: api-core 7.6-7.8, 8, 9; data-model 6.3-6.6; runtime 3.6-3.7, 4.4, 4.9;
ARCHITECTURE 11. Each test is run for the OpenAI and the Anthropic wire format.
"""

import time

from lib.checks import check
from lib.sse import (FORMATS, HEARTBEAT_MS, MSG_KEYS, RUNTIME_STATE_SOURCE, ChatEnv, check_frames,
                     collapse, id_key, same, system_text, tool_calls_and_results, tool_names, user_texts)

HINT_RE = (r"<re:<system-reminder>(?s:.*)<current-time>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}"
           r"</current-time>\n<timezone>UTC</timezone>\n</system-reminder>>")


def user_msg_pattern(text):
    return {"name": "user",
            "content": [{"type": "text", "text": text, "id": "<str>", "created_at": "<timestamp>",
                         "finished_at": {"$any_of": [None, "<timestamp>"]}}],
            "role": "user", "id": "<str>", "metadata": {}, "created_at": "<timestamp>",
            "usage": None, "finished_at": {"$any_of": [None, "<timestamp>"]},
            "finished_reason": None, "structured_output": None, "error": None}


def _plain_text(srv, fmt):
    env = ChatEnv(srv, fmt, user=f"plain-{fmt}")
    try:
        text = "Hello there, friend!"
        run = env.run("Say hello", [{"text": text, "chunk_size": 4,
                                     "usage": {"input_tokens": 120, "output_tokens": 25}}])
        check_frames(run.frames, "reply frames")
        types = collapse(run.types())
        check(types == ["REPLY_START", "HINT_BLOCK", "MODEL_CALL_START", "TEXT_BLOCK_START",
                        "TEXT_BLOCK_DELTA+", "TEXT_BLOCK_END", "MODEL_CALL_END", "REPLY_END"],
              f"event sequence {types}")
        ev = {e["type"]: e for e in run.events}  # last of each type
        rid = run.reply_id
        base = {"id": "<str>", "created_at": "<timestamp>", "metadata": {}}
        same({**base, "type": "REPLY_START", "session_id": env.session_id, "reply_id": "<str>",
              "name": "Tester", "role": "assistant"}, run.events[0], "REPLY_START")
        same({**base, "type": "HINT_BLOCK", "reply_id": rid, "block_id": "<str>",
              "source": RUNTIME_STATE_SOURCE, "hint": HINT_RE}, ev["HINT_BLOCK"], "HINT_BLOCK")
        same({**base, "type": "MODEL_CALL_START", "reply_id": rid,
              "model_name": FORMATS[fmt]["model"]}, ev["MODEL_CALL_START"], "MODEL_CALL_START")
        block = ev["TEXT_BLOCK_START"]["block_id"]
        same({**base, "type": "TEXT_BLOCK_START", "reply_id": rid, "block_id": "<str>"},
             ev["TEXT_BLOCK_START"], "TEXT_BLOCK_START")
        for d in run.of("TEXT_BLOCK_DELTA"):
            same({**base, "type": "TEXT_BLOCK_DELTA", "reply_id": rid, "block_id": block,
                  "delta": "<str>"}, d, "TEXT_BLOCK_DELTA")
        check(run.text() == text, f"text deltas join to {run.text()!r}, expected {text!r}")
        same({**base, "type": "TEXT_BLOCK_END", "reply_id": rid, "block_id": block},
             ev["TEXT_BLOCK_END"], "TEXT_BLOCK_END")
        same({**base, "type": "MODEL_CALL_END", "reply_id": rid, "input_tokens": 120,
              "output_tokens": 25, "cache_input_tokens": 0, "cache_creation_input_tokens": 0,
              "finished_reason": "completed"}, ev["MODEL_CALL_END"], "MODEL_CALL_END usage")
        same({**base, "type": "REPLY_END", "session_id": env.session_id, "reply_id": rid,
              "finished_reason": "completed", "error": None}, ev["REPLY_END"], "REPLY_END")

        # The message log: the user's message and the reply rebuilt from the events.
        page = env.messages()
        same({"messages": [user_msg_pattern("Say hello"), {
            "name": "Tester",
            "content": [
                {"type": "hint", "hint": ev["HINT_BLOCK"]["hint"],
                 "id": ev["HINT_BLOCK"]["block_id"], "source": RUNTIME_STATE_SOURCE,
                 "created_at": "<timestamp>", "finished_at": "<timestamp>"},
                {"type": "text", "text": text, "id": block, "created_at": "<timestamp>",
                 "finished_at": ev["TEXT_BLOCK_END"]["created_at"]}],
            "role": "assistant", "id": rid, "metadata": {}, "created_at": "<timestamp>",
            "usage": {"input_tokens": 120, "output_tokens": 25, "cache_input_tokens": 0,
                      "cache_creation_input_tokens": 0},
            "finished_at": ev["REPLY_END"]["created_at"], "finished_reason": "completed",
            "structured_output": None, "error": None}],
            "is_running": False, "has_more": False}, page, "GET messages")
        for msg in page["messages"]:
            check(list(msg) == MSG_KEYS, f"Msg key order {list(msg)}")
        hint = page["messages"][1]["content"][0]
        # data-model 6.5/6.7: the hint block is complete: finished_at = its own created_at.
        check(hint["finished_at"] == hint["created_at"],
              f"hint block created_at {hint['created_at']} != finished_at {hint['finished_at']}")
        check(env.status() == "idle", f"status after the run: {env.status()}")
        view = env.session_view()
        same({"reply_id": rid, "cur_iter": 1}, view["session"]["state"]["reply_context"],
             "state.reply_context after a text-only reply", subset=True)
        check(view["status"] == "idle" and view["is_running"] is False,
              f"session view status {view['status']} is_running {view['is_running']}")

        # What the provider received.
        reqs = env.wait_requests(1, finished=True)
        check(len(reqs) == 1, f"provider got {len(reqs)} requests, expected 1")
        req = reqs[0]
        check(req["format"] == fmt and req["model"] == FORMATS[fmt]["model"] and req["stream"],
              f"provider request format={req['format']} model={req['model']} stream={req['stream']}")
        hdrs = req["headers"]
        if fmt == "openai":
            check(hdrs.get("authorization") == "Bearer k-test-123",
                  f"authorization header {hdrs.get('authorization')!r}")
        else:
            check(hdrs.get("x-api-key") == "k-test-123", f"x-api-key {hdrs.get('x-api-key')!r}")
            check("anthropic-version" in hdrs, "no anthropic-version header")
        sys_text = system_text(req)
        check(sys_text.startswith("You are a test agent.") and env.session_id in sys_text,
              f"system prompt {sys_text[:200]!r} lacks the agent prompt or the session id")
        check(any("Say hello" in t for t in user_texts(req)), f"user texts sent: {user_texts(req)}")
        names = tool_names(req)
        check({"debug_echo", "debug_sleep", "debug_fail", "debug_chunks"} <= set(names),
              f"tools sent: {names}")
    finally:
        env.close()


def _thinking(srv, fmt):
    env = ChatEnv(srv, fmt, user=f"think-{fmt}")
    try:
        thought = "I should echo the word."
        first = {"thinking": thought, "chunk_size": 5,
                 "tool_calls": [{"id": "call_think1", "name": "debug_echo",
                                 "arguments": {"text": "hi"}}]}
        if fmt == "anthropic":
            first["signature"] = "EqQBsig-test"
        run = env.run("Think, then echo hi", [
            first, {"thinking": "Now answer.", "text": "The answer is hi.", "chunk_size": 5}])
        check_frames(run.frames, "reply frames")
        types = collapse(run.types())
        check(types == ["REPLY_START", "HINT_BLOCK",
                        "MODEL_CALL_START", "THINKING_BLOCK_START", "THINKING_BLOCK_DELTA+",
                        "THINKING_BLOCK_END", "TOOL_CALL_START", "TOOL_CALL_DELTA+",
                        "TOOL_CALL_END", "MODEL_CALL_END",
                        "TOOL_RESULT_START", "TOOL_RESULT_TEXT_DELTA+", "TOOL_RESULT_END",
                        "MODEL_CALL_START", "THINKING_BLOCK_START", "THINKING_BLOCK_DELTA+",
                        "THINKING_BLOCK_END", "TEXT_BLOCK_START", "TEXT_BLOCK_DELTA+",
                        "TEXT_BLOCK_END", "MODEL_CALL_END", "REPLY_END"],
              f"event sequence {types}")
        starts = run.of("THINKING_BLOCK_START")
        check(starts[0]["block_id"] != starts[1]["block_id"], "two thinking blocks share an id")
        joined = ["".join(d["delta"] for d in run.of("THINKING_BLOCK_DELTA")
                          if d["block_id"] == s["block_id"]) for s in starts]
        check(joined == [thought, "Now answer."], f"thinking deltas join to {joined}")
        check(run.text() == "The answer is hi.", f"text {run.text()!r}")
        check(run.end["finished_reason"] == "completed", f"REPLY_END {run.end}")

        reply = env.messages()["messages"][-1]
        kinds = [b["type"] for b in reply["content"]]
        check(kinds == ["hint", "thinking", "tool_call", "tool_result", "thinking", "text"],
              f"persisted reply blocks {kinds}")
        same({"type": "thinking", "thinking": thought, "id": starts[0]["block_id"],
              "created_at": "<timestamp>", "finished_at": "<timestamp>"}, reply["content"][1],
             "persisted thinking block", subset=True)

        reqs = env.wait_requests(2, finished=True)
        check(len(reqs) == 2, f"provider got {len(reqs)} requests, expected 2")
        if fmt == "anthropic":
            # The thinking block goes back with its signature, before the tool use.
            sent = [m for m in reqs[1]["body"]["messages"] if m["role"] == "assistant"]
            blocks = [b for m in sent for b in (m["content"] if isinstance(m["content"], list)
                                                else [])]
            thinking = [b for b in blocks if b.get("type") == "thinking"]
            check(thinking and thinking[0].get("thinking") == thought
                  and thinking[0].get("signature") == "EqQBsig-test",
                  f"second Anthropic request's assistant blocks: {blocks}")
            check([b.get("type") for b in blocks].index("thinking")
                  < [b.get("type") for b in blocks].index("tool_use"),
                  f"thinking not before tool_use: {[b.get('type') for b in blocks]}")
        calls, results = tool_calls_and_results(reqs[1])
        check([c[0] for c in calls] == ["call_think1"] and "hi" in results.get("call_think1", ""),
              f"second request tool calls {calls} results {results}")
    finally:
        env.close()


for _fmt in FORMATS:
    def _make(fn, fmt):
        def test(srv):
            fn(srv, fmt)
        test.__name__ = f"test_{fn.__name__.lstrip('_')}_{fmt}"
        return test
    globals()[f"test_plain_text_{_fmt}"] = _make(_plain_text, _fmt)
    globals()[f"test_thinking_{_fmt}"] = _make(_thinking, _fmt)
del _fmt


def test_stream_headers_and_heartbeat(srv):
    env = ChatEnv(srv, "openai", user="sse-headers")
    try:
        s = env.stream()
        check(s.status == 200, f"stream status {s.status} {s.body[:200]!r}")
        check((s.header("content-type") or "").startswith("text/event-stream"),
              f"content-type {s.header('content-type')!r}")
        check(s.header("cache-control") == "no-cache", f"cache-control {s.header('cache-control')!r}")
        check((s.header("x-accel-buffering") or "").lower() == "no",
              f"x-accel-buffering {s.header('x-accel-buffering')!r}")
        time.sleep(HEARTBEAT_MS * 3.5 / 1000)
        frames = s.snapshot()
        beats = [f for f in frames if f.is_heartbeat]
        check(len(beats) >= 2, f"{len(beats)} heartbeat comments in {HEARTBEAT_MS * 3.5:.0f} ms "
                               f"with --sse-heartbeat-ms {HEARTBEAT_MS}")
        check(not [f for f in frames if f.data is not None], "data frames on an idle session")
        r = srv.get(f"/sessions/nope/stream{env.q()}", user=env.user)
        check(r.status == 404 and r.json() == {"detail": "Session 'nope' not found."},
              f"stream of an unknown session: {r.describe()}")
    finally:
        env.close()


def test_input_persisted_before_the_run_answers(srv):
    env = ChatEnv(srv, "openai", user="persist-first")
    try:
        env.script([{"text": "Late answer.", "first_byte_delay_ms": 1500}])
        s = env.start("Store me first")
        page = env.messages()
        # The user's message is stored before the run; the reply may already be there
        # too, unfinished, because every step (REPLY_START included) is persisted.
        same([user_msg_pattern("Store me first")], page["messages"][:1],
             "the message log right after POST /chat/ (provider still silent)")
        for m in page["messages"][1:]:
            check(m["role"] == "assistant" and m["finished_reason"] is None,
                  f"unexpected message while the provider is silent: {m}")
        check(page["is_running"] is True, f"is_running {page['is_running']} during the run")
        check(env.status() == "running", f"status during the run: {env.status()}")
        rid = env.wait_reply_start(s)
        run = env.collect(s, rid)
        check(run.end["finished_reason"] == "completed", f"REPLY_END {run.end}")
    finally:
        env.close()


def test_two_clients_get_identical_frames(srv):
    env = ChatEnv(srv, "anthropic", user="two-clients")
    try:
        a, b = env.stream(), env.stream()
        env.script([{"text": "Both of you see this, in the same frames.", "chunk_size": 3,
                     "delay_ms": 10}])
        env.start("Hello both", stream=a)
        rid = env.wait_reply_start(a)
        run_a = env.collect(a, rid)
        run_b = env.collect(b, rid)
        check_frames(a.snapshot(), "client A")
        raw_a = [f.raw for f in a.data_frames()]
        raw_b = [f.raw for f in b.data_frames()]
        check(raw_a == raw_b, f"clients differ: A has {len(raw_a)} frames, B {len(raw_b)}; "
                              f"first difference at "
                              f"{next((i for i, (x, y) in enumerate(zip(raw_a, raw_b)) if x != y), None)}")
        check(len(run_a.frames) == len(run_b.frames) > 5, "runs differ in length")
    finally:
        env.close()


def test_many_clients_and_a_stalled_one_get_every_frame(srv):
    # Past 64 subscribers a stream's events are written to the sockets by the
    # publishing thread and an io thread; a client that stops reading backs its
    # socket up, and must still get every frame, whole and in order, once it reads.
    env = ChatEnv(srv, "openai", user="many-clients")
    try:
        clients = [env.stream() for _ in range(80)]
        stalled = clients[-1]
        stalled.pause(receive_buffer=4096)
        line = "The quick brown fox jumps over the lazy dog. " * 40 + "\n"
        text = line * 250  # ~450 KB of deltas: more than the stalled socket's buffers hold
        env.script([{"text": text, "chunk_size": 1800}])
        env.start("Talk a lot", stream=clients[0])
        rid = env.wait_reply_start(clients[0])
        first = env.collect(clients[0], rid, timeout=30)
        check(first.text() == text, "client 0: the deltas do not join to the text")
        for c in clients[1:-1]:
            env.collect(c, rid, timeout=30)
        stalled.resume()
        env.collect(stalled, rid, timeout=30)
        reference = [f.raw for f in clients[0].data_frames()]
        check(len(reference) > 200, f"only {len(reference)} frames")
        for i, c in enumerate(clients):
            check_frames(c.snapshot(), f"client {i}")
            got = [f.raw for f in c.data_frames()]
            check(got == reference, f"client {i} got {len(got)} frames, client 0 {len(reference)}; first "
                                    f"difference at {next((k for k, (x, y) in enumerate(zip(got, reference)) if x != y), None)}")
    finally:
        env.close()


def _resume_mid_run(srv, via):
    env = ChatEnv(srv, "openai", user=f"resume-{via}")
    try:
        full = env.stream()
        env.script([{"text": "one two three four five six seven eight nine ten eleven",
                     "chunk_size": 2, "delay_ms": 25}])
        env.start("Count", stream=full)
        rid = env.wait_reply_start(full)
        # A client that reads a few deltas, drops, and comes back with the last id.
        early = env.stream()
        early.wait_type("TEXT_BLOCK_DELTA")
        got = early.data_frames()
        early.close()
        last = got[-1].id
        if via == "header":
            again = env.stream(last_event_id=last)
        else:
            again = env.stream(query_last=last)
        env.collect(full, rid)
        again.wait_type("REPLY_END", reply_id=rid)
        ids_full = [f.id for f in full.data_frames()]
        ids_again = [f.id for f in again.data_frames()]
        cut = ids_full.index(last)
        check(ids_again == ids_full[cut + 1:],
              f"resumed after {last}: got ids {ids_again[:5]}..({len(ids_again)}), expected "
              f"{ids_full[cut + 1:cut + 6]}..({len(ids_full) - cut - 1})")
        check([f.raw for f in again.data_frames()] == [f.raw for f in full.data_frames()][cut + 1:],
              "resumed frames differ from the frames the other client got")
        check(cut >= 2 and len(ids_again) >= 5, f"seam not exercised (cut {cut}, "
                                                f"{len(ids_again)} after it)")
    finally:
        env.close()


def test_resume_mid_run_last_event_id_header(srv):
    _resume_mid_run(srv, "header")


def test_resume_mid_run_last_event_id_query(srv):
    _resume_mid_run(srv, "query")


_BLOCK_STARTS = {"TEXT_BLOCK_START": ("text", "block_id"), "THINKING_BLOCK_START": ("thinking", "block_id"),
                 "DATA_BLOCK_START": ("data", "block_id"), "HINT_BLOCK": ("hint", "block_id"),
                 "TOOL_CALL_START": ("tool_call", "tool_call_id"),
                 "TOOL_RESULT_START": ("tool_result", "tool_call_id")}


def _blocks_started(frames):
    return [(_BLOCK_STARTS[f.type][0], f.event[_BLOCK_STARTS[f.type][1]])
            for f in frames if f.type in _BLOCK_STARTS]


def _blocks_of(msg):
    return [(b["type"], b["id"]) for b in msg["content"]]


def test_a_client_that_reads_messages_then_streams_gets_each_block_once(srv):
    # The Web UI's way of opening a session: GET messages, then the stream with no
    # cursor, folding the stream into what it read. The reply is stored at every
    # step, so the replay must start where the stored copy ends.
    env = ChatEnv(srv, "openai", user="ui-replay")
    try:
        env.script([
            {"text": "Let me check.", "chunk_size": 4,
             "tool_calls": [{"id": "call_u1", "name": "debug_echo", "arguments": {"text": "first"}}]},
            {"tool_calls": [{"id": "call_u2", "name": "debug_sleep", "arguments": {"ms": 1500}}]},
            {"text": "All rounds done.", "chunk_size": 3}])
        s = env.start("Step by step")
        rid = env.wait_reply_start(s)
        s.wait_type("TOOL_RESULT_START", tool_call_id="call_u2")
        time.sleep(0.2)  # the step before the sleeping tool is stored
        page = env.messages()
        check(page["is_running"] is True, "the run ended before the check")
        held = page["messages"][-1]
        check(held["id"] == rid, f"the running reply is not the last message: {held['id']} != {rid}")
        ui = env.stream()
        env.collect(s, rid, timeout=10)
        ui.wait_type("REPLY_END", reply_id=rid)
        frames = ui.data_frames()
        check(frames and frames[0].type == "REPLY_START" and frames[0].event["reply_id"] == rid,
              f"the replay does not open with the running reply's REPLY_START: {[f.type for f in frames[:3]]}")
        check(sum(f.type == "REPLY_START" for f in frames) == 1, "REPLY_START sent twice")
        check(frames[0].raw == next(f.raw for f in s.data_frames() if f.type == "REPLY_START"),
              "the replayed REPLY_START is not the run's own frame")
        stored = _blocks_of(held)
        streamed = _blocks_started(frames)
        check(any(t == "text" for t, _ in stored) and ("tool_call", "call_u1") in stored
              and ("tool_result", "call_u1") in stored, f"the stored reply mid-run: {stored}")
        twice = set(stored) & set(streamed)
        check(not twice, f"blocks both in the messages and in the replay: {sorted(twice)}")
        final = env.messages()["messages"][-1]
        check(sorted(stored + streamed) == sorted(_blocks_of(final)),
              f"messages read mid-run {stored} + streamed {streamed} != the finished reply "
              f"{_blocks_of(final)}")
        # Once the run has ended there is nothing unsaved: a new stream replays nothing.
        late = env.stream()
        time.sleep(HEARTBEAT_MS * 2 / 1000)
        check(late.data_frames() == [], f"after the run: {[f.type for f in late.data_frames()]}")
    finally:
        env.close()


def test_reconnect_after_run_ended(srv):
    env = ChatEnv(srv, "anthropic", user="retention")
    try:
        run = env.run("Hi", [{"text": "Kept for reconnects.", "chunk_size": 4}])
        first = env.streams[-1]
        frames = first.data_frames()
        env.close()
        time.sleep(0.2)
        # No cursor: the stored messages hold the finished run, so nothing is
        # replayed (a client folding a replay into them would show it twice).
        s = env.stream()
        time.sleep(HEARTBEAT_MS * 2 / 1000)
        check(s.data_frames() == [], f"a stream without a cursor replayed "
                                     f"{[f.type for f in s.data_frames()]} after the run")
        # A cursor from before the run: the retained log replays all of it.
        s1 = env.stream(last_event_id="0-0")
        s1.wait_type("REPLY_END", reply_id=run.reply_id)
        check([f.raw for f in s1.data_frames()] == [f.raw for f in frames],
              "replay after the run differs from what the live client got")
        k = len(frames) // 2
        s2 = env.stream(last_event_id=frames[k].id)
        s3 = env.stream(query_last=frames[k].id)
        for name, c in (("header", s2), ("query", s3)):
            c.wait_type("REPLY_END", reply_id=run.reply_id)
            time.sleep(0.1)
            check([f.raw for f in c.data_frames()] == [f.raw for f in frames[k + 1:]],
                  f"resume ({name}) after {frames[k].id}: {len(c.data_frames())} frames, "
                  f"expected {len(frames) - k - 1}")
        s4 = env.stream(last_event_id=frames[-1].id)
        time.sleep(HEARTBEAT_MS * 2 / 1000)
        check(s4.data_frames() == [], f"resume after the last id replayed "
                                      f"{[f.type for f in s4.data_frames()]}")
        # The next run continues the same sequence on the open stream.
        run2 = env.run("Again", [{"text": "Second."}])
        check(run2.end["finished_reason"] == "completed", f"second REPLY_END {run2.end}")
        s4.wait_type("REPLY_END", reply_id=run2.reply_id)
        more = s4.data_frames()
        check(more[0].type == "REPLY_START" and more[0].event["reply_id"] == run2.reply_id,
              f"the resumed stream continues with {more[0].type}, expected the second REPLY_START")
        check(id_key(more[0].id) > id_key(frames[-1].id),
              f"second run's first id {more[0].id} does not follow {frames[-1].id}")
    finally:
        env.close()
