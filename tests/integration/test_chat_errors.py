"""Provider failures end to end: retry, fallback model, classified errors with the
reference's fixed messages (never the provider's text), a stream cut mid-reply.

Specs: runtime 4.4.1 (retries, fallback), 3.10 (classification, fixed messages),
api-core 8 (error table), data-model 6.3 (REPLY_END error). OpenAI and Anthropic.
"""

import os
import sqlite3

from lib.checks import check
from lib.sse import ERROR_MESSAGES, FORMATS, ChatEnv, check_frames, collapse

FAST_RETRY = {"retry-after-ms": "10", "retry-after": "0.01"}
SETUP_MESSAGE = ("The session could not be prepared \u2014 check the agent's model, tools and "
                 "knowledge bases.")


def _retry_429(srv, fmt):
    env = ChatEnv(srv, fmt, user=f"retry-{fmt}")
    try:
        run = env.run("Please answer", [{"status": 429, "headers": FAST_RETRY},
                                        {"text": "Answer after a retry."}])
        check_frames(run.frames)
        check(run.end["finished_reason"] == "completed" and run.end["error"] is None,
              f"REPLY_END {run.end}")
        check(run.text() == "Answer after a retry.", f"text {run.text()!r}")
        check(len(run.of("MODEL_CALL_START")) == 1, "a retry showed up as a second model call")
        reqs = env.wait_requests(2, finished=True)
        check([r["served"] for r in reqs] == [0, 1], f"provider served {[r['served'] for r in reqs]}")
        reply = env.messages()["messages"][-1]
        check(reply["finished_reason"] == "completed" and reply["error"] is None,
              f"persisted reply {reply['finished_reason']} {reply['error']}")
    finally:
        env.close()


def _fallback_500(srv, fmt):
    env = ChatEnv(srv, fmt, user=f"fallback-{fmt}", fallback=True)
    try:
        primary, fallback = FORMATS[fmt]["model"], FORMATS[fmt]["fallback_model"]
        run = env.run("Please answer", [
            {"match": {"model": primary}, "status": 500, "repeat": True, "headers": FAST_RETRY,
             "message": "primary-is-down-SECRET"},
            {"match": {"model": fallback}, "text": "The fallback answers."}])
        check(run.end["finished_reason"] == "completed" and run.end["error"] is None,
              f"REPLY_END {run.end}")
        check(run.text() == "The fallback answers.", f"text {run.text()!r}")
        reqs = env.wait_requests(2, finished=True)
        models = [r["model"] for r in reqs]
        check(models[-1] == fallback and models[0] == primary and fallback not in models[:-1],
              f"models requested {models}")
        check(len(models) == 7, f"{len(models)} requests: the primary should be sent 6 times (5 retries)")
        body = b"".join(f.raw.encode() for f in run.frames) + env.messages_raw()
        check(b"primary-is-down-SECRET" not in body, "the provider's error text leaked")
    finally:
        env.close()


def _auth_401(srv, fmt):
    env = ChatEnv(srv, fmt, user=f"auth-{fmt}")
    try:
        secret = "UPSTREAM-SAYS-bad-key-XYZZY"
        run = env.run("Please answer", [{"status": 401, "message": secret, "repeat": True}])
        check_frames(run.frames)
        types = collapse(run.types())
        check(types[:3] == ["REPLY_START", "HINT_BLOCK", "MODEL_CALL_START"]
              and types[-1] == "REPLY_END", f"event sequence {types}")
        check(not [t for t in types if t.startswith(("TEXT", "TOOL", "THINKING"))],
              f"content events in a failed reply: {types}")
        want_error = {"type": "authentication", "message": ERROR_MESSAGES["authentication"]}
        check(run.end["finished_reason"] == "error" and run.end["error"] == want_error,
              f"REPLY_END {run.end}")
        reqs = env.wait_requests(1, finished=True)
        check(len(reqs) == 1, f"a 401 was retried: {len(reqs)} provider requests")
        reply = env.messages()["messages"][-1]
        check(reply["id"] == run.reply_id and reply["finished_reason"] == "error"
              and reply["error"] == want_error, f"persisted reply error {reply['error']}")
        check(reply["finished_at"] == run.end["created_at"], "finished_at is not REPLY_END's time")
        everything = ("".join(f.raw for f in env.streams[-1].snapshot()).encode()
                      + env.messages_raw()
                      + srv.get(f"/sessions/?agent_id={env.agent_id}", user=env.user).body)
        for leak in (secret, "invalid x-api-key", "Incorrect API key", "authentication_error",
                     "invalid_api_key"):
            check(leak.encode() not in everything, f"provider text {leak!r} reached a client")
        check(env.wait_status("idle") == "idle", "status not idle after the failure")
        # The session works again once the provider does.
        run2 = env.run("Again", [{"text": "Fine now."}])
        check(run2.end["finished_reason"] == "completed", f"next run {run2.end}")
    finally:
        env.close()


def _stream_cut(srv, fmt):
    env = ChatEnv(srv, fmt, user=f"cut-{fmt}")
    try:
        full = "Partial answer that gets cut off here."
        preamble = 1 if fmt == "openai" else 3  # role chunk / message_start+block_start+ping
        run = env.run("Please answer", {
            "responses": [{"text": full, "chunk_size": 4, "disconnect_after_chunks": preamble + 4}],
            "default": None})
        check_frames(run.frames)
        check(run.end["finished_reason"] == "error", f"REPLY_END {run.end}")
        etype = run.end["error"]["type"]
        check(etype in ("connection", "upstream")
              and run.end["error"]["message"] == ERROR_MESSAGES[etype],
              f"REPLY_END error {run.end['error']}")
        check(run.text() == full[:16], f"streamed text {run.text()!r}, expected {full[:16]!r}")
        reply = env.messages()["messages"][-1]
        texts = [b["text"] for b in reply["content"] if b["type"] == "text"]
        check(texts == [full[:16]], f"persisted partial text {texts}")
        check(reply["finished_reason"] == "error" and reply["error"] == run.end["error"],
              f"persisted reply {reply['finished_reason']} {reply['error']}")
        check(env.wait_status("idle") == "idle", "status not idle")
    finally:
        env.close()


for _fmt in FORMATS:
    def _make(fn, fmt):
        def test(srv):
            fn(srv, fmt)
        return test
    for _fn in (_retry_429, _fallback_500, _auth_401, _stream_cut):
        globals()[f"test{_fn.__name__}_{_fmt}"] = _make(_fn, _fmt)
del _fmt, _fn


def test_workspace_unavailable_is_an_error_reply(srv):
    """The session's workspace cannot be made: the run answers with an error reply
    (no model call), the session stays usable, and the next run works once the
    workspace can be made again."""
    import hashlib
    import os
    env = ChatEnv(srv, "openai", user="ws-unavailable")
    user_dir = os.path.join(srv.data_dir, "workspaces",
                            hashlib.blake2b(env.user.encode(), digest_size=16).hexdigest())
    try:
        os.makedirs(os.path.dirname(user_dir), exist_ok=True)
        with open(user_dir, "w") as f:  # a file where the user's workspace folder goes
            f.write("not a directory")
        run = env.run("Please answer", [{"text": "Never asked for."}])
        check_frames(run.frames)
        check(run.end["finished_reason"] == "error", f"REPLY_END {run.end}")
        check(run.end["error"] == {"type": "setup", "message": SETUP_MESSAGE}, f"REPLY_END error {run.end['error']}")
        check(b"not a directory" not in b"".join(f.raw.encode() for f in run.frames),
              "the server's error text reached the client")
        check(env.requests() == [], f"the provider was asked: {env.requests()}")
        check(env.wait_status("idle") == "idle", "status not idle")

        def texts():
            return [(m["role"], [b.get("text") for b in m["content"] if b["type"] == "text"])
                    for m in env.messages()["messages"]]
        # Like any setup failure: the error reply is stored, the unanswered input is not.
        stored = env.messages()["messages"]
        check([m["role"] for m in stored] == ["assistant"], f"stored after the failure: {texts()}")
        check(stored[0]["finished_reason"] == "error" and stored[0]["error"]["type"] == "setup",
              f"stored reply {stored[0]['finished_reason']} {stored[0]['error']}")
        os.remove(user_dir)
        run = env.run("Again", [{"text": "Now it works."}])
        check(run.end["finished_reason"] == "completed", f"REPLY_END {run.end}")
        check(run.text() == "Now it works.", f"text {run.text()!r}")
        check(texts()[1:] == [("user", ["Again"]), ("assistant", ["Now it works."])], f"stored {texts()}")
    finally:
        if os.path.isfile(user_dir):
            os.remove(user_dir)
        env.close()


def test_out_of_range_model_parameters_are_refused_and_a_stored_one_fails_as_setup(srv):
    """`temperature: 5` is refused with a 422 when a session is created or patched
    (the reference accepts it); a session that holds one anyway (written before
    that check) gets a setup error reply, as the reference's chat-time
    validation gives, and the provider is never asked."""
    env = ChatEnv(srv, "openai", user="hot-params")
    try:
        hot = env.model_config(env.spec["model"])
        hot["parameters"] = {"temperature": 5}
        r = srv.post("/sessions/", json={"agent_id": env.agent_id, "chat_model_config": hot}, user=env.user)
        check(r.status == 422, f"create: {r.status} {r.body!r}")
        check(r.json()["detail"][0]["loc"] == ["body", "chat_model_config", "parameters"], r.body)
        r = srv.patch(f"/sessions/{env.session_id}", json={"chat_model_config": hot}, user=env.user)
        check(r.status == 422, f"patch: {r.status} {r.body!r}")
        con = sqlite3.connect(os.path.join(srv.data_dir, "agentd.db"), timeout=10)
        try:
            con.execute("UPDATE sessions SET config = json_set(config, '$.chat_model_config.parameters.temperature', 5)"
                        " WHERE id = ?", (env.session_id,))
            con.commit()
        finally:
            con.close()
        run = env.run("Hello", [{"text": "Never asked."}])
        check(run.end["finished_reason"] == "error"
              and run.end["error"] == {"type": "setup", "message": SETUP_MESSAGE}, f"REPLY_END {run.end}")
        check(env.requests() == [], "the provider was called")
    finally:
        env.close()


def test_a_run_that_cannot_set_up_still_ends_its_reply(srv):
    """A failure outside the reply's steps (here an agent record damaged in the
    store after the run was accepted) still ends the reply for its clients, with
    the classified error, and leaves the session usable."""
    env = ChatEnv(srv, "openai", user="aborted-run")
    try:
        con = sqlite3.connect(os.path.join(srv.data_dir, "agentd.db"), timeout=10)
        try:
            row = con.execute("SELECT data FROM agents WHERE id = ?", (env.agent_id,)).fetchone()
            con.execute("UPDATE agents SET data = json_set(data, '$.react_config', 'damaged') WHERE id = ?",
                        (env.agent_id,))
            con.commit()
            run = env.run("Hello", [{"text": "Never asked."}])
            # A damaged record is a failure to set the session up, as the reference
            # classifies its validation errors.
            check(run.end["finished_reason"] == "error"
                  and run.end["error"] == {"type": "setup", "message": SETUP_MESSAGE},
                  f"REPLY_END {run.end}")
            check(env.requests() == [], "the provider was called")
            check(env.wait_status("idle", 3) == "idle", f"status {env.status()}")
            reply = env.messages()["messages"][-1]
            check(reply["finished_reason"] == "error", f"stored reply {reply['finished_reason']}")
            con.execute("UPDATE agents SET data = ? WHERE id = ?", (row[0], env.agent_id))
            con.commit()
        finally:
            con.close()
        run = env.run("Again", [{"text": "Fine now."}])
        check(run.end["finished_reason"] == "completed", f"next run {run.end}")
        check(len(env.messages()["messages"]) == 4, "expected two messages and two replies")
    finally:
        env.close()
