"""What leaves the model's context is kept in the session's workspace (runtime 8.1,
8.3; tools-workspace 6.2, 6.6) and the model is told where: the cut-off part of a
long tool result, in sessions/<session id>/tool_result-<call id>.txt, and an
attachment the model cannot take, in data/<sha256>.<ext> (runtime 4.2). The system
prompt describes the workspace, and deleting the session removes its folder.

Each test runs for OpenAI and Anthropic against the fake provider.
"""

import base64
import hashlib
import json
import re
import urllib.parse

from lib.checks import check
from lib.pdf import make_pdf
from lib.sse import FORMATS, ChatEnv, system_text, tool_calls_and_results, user_texts

REMINDER = re.compile(r"\n<<<TRUNCATED>>>\n<system-reminder>The remaining content has been omitted for limited "
                      r"context\. You can refer to the file in '([^']+)' for the truncated content if needed\."
                      r"</system-reminder>$")


def _file(srv, env, path, session_id=None):
    q = urllib.parse.urlencode({"agent_id": env.agent_id, "session_id": session_id or env.session_id, "path": path})
    return srv.get(f"/workspace/files?{q}", user=env.user)


def _send_attachment(env, text, name, media_type, payload):
    """Posts a message of `text` and one base64 data block; returns the finished run."""
    s = env.stream()
    r = env.post_chat(input_={"name": "user", "role": "user", "content": [
        {"type": "text", "text": text},
        {"type": "data", "name": name, "source": {"type": "base64", "media_type": media_type, "data": payload}}]})
    check(r.status == 200, f"POST /chat/: {r.status} {r.body[:200]}")
    return env.collect(s, env.wait_reply_start(s))


def _truncated_result(srv, fmt):
    env = ChatEnv(srv, fmt, user=f"offload-{fmt}")
    try:
        r = srv.patch(f"/agent/{env.agent_id}", json={"context_config": {"tool_result_limit": 100}}, user=env.user)
        check(r.status == 200, f"PATCH context_config: {r.status} {r.body[:200]}")
        long_text = "".join(f"line {i:04d}\n" for i in range(300))  # 3,000 bytes, ~750 tokens
        run = env.run("Echo a lot", [
            {"tool_calls": [{"id": "call_big", "name": "debug_echo", "arguments": {"text": long_text}}]},
            {"text": "Done."}])
        check(run.end["finished_reason"] == "completed", f"REPLY_END {run.end}")
        # The stream and the message log carry the whole output.
        streamed = "".join(e["delta"] for e in run.of("TOOL_RESULT_TEXT_DELTA"))
        check(streamed == long_text, f"streamed {len(streamed)} of {len(long_text)} bytes")

        reqs = env.wait_requests(2, finished=True)
        # The workspace is described in the system prompt, with its folder.
        status = srv.get(f"/workspace/status?agent_id={env.agent_id}&session_id={env.session_id}", user=env.user)
        check(status.status == 200, f"GET /workspace/status: {status.status}")
        prompt = system_text(reqs[0])
        check(prompt.startswith("You are a test agent.\n\n<system-notification>You're within a session "
                                f"(id={env.session_id}).</system-notification>\n"), f"system prompt {prompt[:160]!r}")
        check("\n<workspace>" in prompt and prompt.endswith("</workspace>"), f"system prompt {prompt[-200:]!r}")

        # The model got the first ~400 bytes and a notice naming the file with the rest.
        _, results = tool_calls_and_results(reqs[1])
        sent = results.get("call_big", "")
        m = REMINDER.search(sent)
        check(m is not None, f"the result the model saw ends {sent[-300:]!r}")
        kept = sent[:m.start()]
        check(long_text.startswith(kept) and 300 <= len(kept) <= 400, f"kept {len(kept)} bytes: {kept[-40:]!r}")
        path = m.group(1)
        check(path.endswith(f"/sessions/{env.session_id}/tool_result-call_big.txt"), f"offload path {path!r}")
        relative = path[path.rindex("/sessions/") + 1:]
        r = _file(srv, env, relative)
        check(r.status == 200, f"GET {relative}: {r.status} {r.body[:200]!r}")
        check(kept + r.body.decode() == long_text, f"kept + file = {len(kept)} + {len(r.body)} bytes")

        # Deleting the session removes its folder; another session of the workspace stays usable.
        other = srv.post("/sessions/", json={"agent_id": env.agent_id}, user=env.user).json()["session_id"]
        check(_file(srv, env, relative, session_id=other).status == 200, "the file seen from a sibling session")
        r = srv.delete(f"/sessions/{env.session_id}?agent_id={env.agent_id}", user=env.user)
        check(r.status == 204, f"DELETE session: {r.status}")
        r = _file(srv, env, relative, session_id=other)
        check(r.status == 404, f"after the delete, GET {relative}: {r.status} {r.body[:200]!r}")
    finally:
        env.close()


def _unsupported_attachment(srv, fmt):
    env = ChatEnv(srv, fmt, user=f"attach-{fmt}")
    try:
        payload = base64.b64encode(b"PK\x03\x04 not really a zip").decode()
        relative = "data/" + hashlib.sha256(payload.encode()).hexdigest() + ".zip"
        env.script([{"text": "I will unpack it."}])
        _send_attachment(env, "Here is the archive", "bundle.zip", "application/zip", payload)
        reqs = env.wait_requests(1, finished=True)
        texts = "\n".join(user_texts(reqs[0]))
        want = f"<system-reminder>An attached file named 'bundle.zip' is saved into workspace:///{relative}.</system-reminder>"
        check(want in texts, f"the model saw {texts[:400]!r}")
        check(payload not in json.dumps(reqs[0].get("body") or {}), "the payload itself reached the model")
        r = _file(srv, env, relative)
        check(r.status == 200 and r.body == base64.b64decode(payload), f"GET {relative}: {r.status} {r.body[:80]!r}")
        # The message log keeps what the user sent.
        first = env.messages()["messages"][0]
        check([b["type"] for b in first["content"]] == ["text", "data"]
              and first["content"][1]["source"].get("data") == payload, f"logged input {first['content']}")
    finally:
        env.close()


def test_attached_pdf_is_read_back_as_text(srv):
    """DeepSeek takes no PDFs: an attached one is saved into data/, the model is told
    where, and its Read of that file gets the pages' text."""
    env = ChatEnv(srv, "openai", user="attach-pdf")
    try:
        r = srv.post("/credential/", json={"data": {"type": "deepseek_credential", "api_key": "k-ds",
                                                    "base_url": env.fake.url + "/v1"}}, user=env.user)
        check(r.status == 201, f"create deepseek credential: {r.status} {r.body[:200]}")
        config = {"type": "deepseek_chat", "credential_id": r.json()["credential_id"], "model": "deepseek-chat",
                  "parameters": {}}
        r = srv.post("/sessions/", json={"agent_id": env.agent_id, "chat_model_config": config}, user=env.user)
        check(r.status == 201, f"create session: {r.status} {r.body[:200]}")
        env.session_id = r.json()["session_id"]
        r = srv.get(f"/workspace/status?agent_id={env.agent_id}&session_id={env.session_id}", user=env.user)
        check(r.status == 200, f"GET /workspace/status: {r.status}")
        workdir = r.json()["workdir"]

        payload = base64.b64encode(make_pdf(["Attached report\nAll figures final"])).decode()
        relative = "data/" + hashlib.sha256(payload.encode()).hexdigest() + ".pdf"
        env.script([
            {"tool_calls": [{"id": "call_read", "name": "Read", "arguments": {"file_path": f"{workdir}/{relative}"}}]},
            {"text": "The report says the figures are final."}])
        run = _send_attachment(env, "Summarise the report", "report.pdf", "application/pdf", payload)
        check(run.end["finished_reason"] == "completed", f"REPLY_END {run.end}")
        reqs = env.wait_requests(2, finished=True)
        texts = "\n".join(user_texts(reqs[0]))
        want = f"An attached file named 'report.pdf' is saved into workspace:///{relative}."
        check(want in texts, f"the model saw {texts[:400]!r}")
        check(payload not in json.dumps(reqs[0].get("body") or {}), "the PDF itself reached the model")
        _, results = tool_calls_and_results(reqs[1])
        got = results.get("call_read", "")
        check(got.strip() == "--- Page 1/1 ---\nAttached report\nAll figures final", f"Read gave {got!r}")
    finally:
        env.close()


for _fmt in FORMATS:
    globals()[f"test_truncated_result_{_fmt}"] = (lambda fmt: (lambda srv: _truncated_result(srv, fmt)))(_fmt)
    globals()[f"test_unsupported_attachment_{_fmt}"] = (
        lambda fmt: (lambda srv: _unsupported_attachment(srv, fmt)))(_fmt)
del _fmt
