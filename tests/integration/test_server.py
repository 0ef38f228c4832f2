"""Process-level behaviour: persistence across restarts, secrets at rest, graceful shutdown."""

import os
import signal
import stat
import time

from lib import http
from lib.checks import (check, create_agent, create_credential, create_session, expect_json,
                        expect_status, list_credentials, own_server)
from lib.transcript import mask_secret

CANARY = "sk-PLAINTEXT-CANARY-0123456789abcdef"


def _files(root):
    for dirpath, _, names in os.walk(root):
        for n in names:
            yield os.path.join(dirpath, n)


def test_key_file_is_private(srv):
    """Without AGENTD_SECRET_KEY the server creates a key file (mode 0600) in the data dir."""
    private = [p for p in _files(srv.data_dir)
               if stat.S_ISREG(os.stat(p).st_mode) and os.stat(p).st_mode & 0o077 == 0]
    check(private, f"no owner-only (0600) file in the data dir: "
          f"{[(p, oct(os.stat(p).st_mode)) for p in _files(srv.data_dir)][:10]}")


def test_secrets_encrypted_at_rest(srv):
    """The api_key must not appear in clear in any file of the data dir (ARCHITECTURE 4)."""
    create_credential(srv, {"type": "openai_credential", "api_key": CANARY}, user="canary")
    time.sleep(0.3)
    needles = [CANARY.encode(), CANARY.encode("utf-16-le"), CANARY[8:24].encode()]
    leaks = []
    for p in _files(srv.data_dir):
        try:
            with open(p, "rb") as f:
                data = f.read()
        except OSError:
            continue
        if any(n in data for n in needles):
            leaks.append(os.path.relpath(p, srv.data_dir))
    check(not leaks, f"credential secret stored in clear in {leaks}")
    listed = list_credentials(srv, user="canary")
    check(CANARY not in str(listed), "secret returned in clear by GET /credential/")
    check(CANARY[8:24] not in srv.log_tail(10_000_000), "secret written to the server log")


@own_server
def test_data_survives_restart(srv):
    """Stop with SIGTERM, start again on the same data dir: records and secrets survive."""
    aid = create_agent(srv, "persistent", system_prompt="remember me")
    cid = create_credential(srv, {"type": "anthropic_credential", "api_key": CANARY})
    sid = create_session(srv, aid, name="kept",
                         chat_model_config={"type": "anthropic_credential", "credential_id": cid,
                                            "model": "claude-opus-4-6",
                                            "parameters": {"max_tokens": 100}})
    r = srv.patch(f"/sessions/{sid}?agent_id={aid}", json={"permission_mode": "explore",
                                                           "cwd": "sub"})
    expect_status(r, 200, "session PATCH before restart")
    before_agents = srv.get("/agent/").json()
    before_sessions = srv.get(f"/sessions/?agent_id={aid}").json()
    before_port = srv.port

    reason = srv.restart(keep_data=True)
    check(reason is None, f"first server did not shut down cleanly: {reason}")
    check(srv.port != 0, f"restarted server wrote no port (was {before_port})")

    expect_json(srv.get("/agent/"), before_agents, what="agents after restart")
    expect_json(srv.get(f"/sessions/?agent_id={aid}"), before_sessions,
                what="sessions after restart")
    creds = list_credentials(srv)
    check(creds["total"] == 1 and creds["credentials"][0]["data"]["api_key"]
          == mask_secret(CANARY), f"credential after restart: {creds}")
    # The stored secret is still decryptable with the key file: echoing the mask keeps it.
    r = srv.patch(f"/credential/{cid}", json={"data": {
        "type": "anthropic_credential", "name": "x", "api_key": mask_secret(CANARY)}})
    expect_status(r, 200, "PATCH after restart")
    expect_json(r, {"data": {"api_key": mask_secret(CANARY)}}, subset=True)
    expect_json(srv.get(f"/sessions/{sid}/status?agent_id={aid}"),
                {"session_id": sid, "status": "idle"})


@own_server
def test_sigterm_with_open_connections(srv):
    """SIGTERM exits 0 within 10 s even with idle, half-sent and kept-alive connections."""
    socks = []
    try:
        for _ in range(5):
            socks.append(http.connect(srv.host, srv.port))
        half = http.connect(srv.host, srv.port)
        half.sendall(b"POST /agent/ HTTP/1.1\r\nHost: x\r\nX-User-ID: a\r\n"
                     b"Content-Length: 100\r\n\r\n{\"name\":")
        socks.append(half)
        kept = http.connect(srv.host, srv.port)
        kept.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-User-ID: a\r\n\r\n")
        resp = http.ResponseReader(kept).read()
        check(resp is not None and resp.status == 200, "keep-alive request failed")
        socks.append(kept)
        old_port = srv.port
        reason = srv.restart(keep_data=False)
        check(reason is None, f"shutdown with open connections: {reason}")
        try:
            http.connect(srv.host, old_port, timeout=2).close()
            still_listening = old_port != srv.port
        except OSError:
            still_listening = False
        check(not still_listening, "the old port still accepts connections after exit")
    finally:
        for s in socks:
            s.close()


@own_server
def test_sigterm_right_after_start(srv):
    """A SIGTERM that arrives immediately after start-up still exits 0."""
    srv.proc.send_signal(signal.SIGTERM)
    try:
        rc = srv.proc.wait(10)
    except Exception:  # noqa: BLE001
        rc = None
    check(rc == 0, f"exit status {rc} after an immediate SIGTERM")
    srv.restart(keep_data=False)  # give the runner a live server for its end checks
