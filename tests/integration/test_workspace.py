"""Workspace file routes (spec api-extended §1.3.10–13) against the real binary.

Each test creates its own agent and session through the API, asks
GET /workspace/status where the workspace is, and plants files there directly
on the host (the local workspace's workdir is a host path). Agentd confines
every path to the workspace: `..`, absolute paths elsewhere and escaping
symlinks answer 404 exactly like missing files.
"""

import json
import os
import shutil
import subprocess
from urllib.parse import quote

from lib.checks import check, create_agent, create_session, expect_json, expect_status

MiB = 1024 * 1024


def _q(value):
    return quote(value, safe="")


def _setup(srv, user):
    """An agent and session of `user`, and the host directory of their workspace."""
    aid = create_agent(srv, "ws-agent", user=user)
    sid = create_session(srv, aid, user=user)
    r = srv.get(f"/workspace/status?agent_id={aid}&session_id={sid}", user=user)
    expect_status(r, 200, "workspace status")
    workdir = r.json()["workdir"]
    host = _host_dir(srv, workdir, aid, r)
    return aid, sid, workdir, host


def _host_dir(srv, workdir, aid, status_resp):
    if os.path.isdir(workdir):  # local workspace: the agent sees host paths
        return workdir
    # A sandboxed workspace shows another path: look for its folder in the data dir.
    for dirpath, dirnames, _ in os.walk(srv.data_dir):
        for d in dirnames:
            if d == aid:
                return os.path.join(dirpath, d)
    raise AssertionError(f"cannot find the workspace {workdir!r} on the host: {status_resp.describe()}")


def _write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode("utf-8"))


def _base(aid, sid):
    return f"agent_id={aid}&session_id={sid}"


def test_directory_listing(srv):
    aid, sid, workdir, host = _setup(srv, "ws-list")
    _write(os.path.join(host, "reports", "q3.md"), "# Q3\n")
    _write(os.path.join(host, "reports", "b.txt"), "hello world")
    os.makedirs(os.path.join(host, "reports", "img"), exist_ok=True)
    os.utime(os.path.join(host, "reports", "b.txt"), (1717400000.5, 1717400000.5))

    r = srv.get(f"/workspace/directories?{_base(aid, sid)}&path=reports", user="ws-list")
    expect_status(r, 200, "list reports")
    body = expect_json(r, {"path": workdir.rstrip("/") + "/reports", "entries": "<any>"})
    names = [e["name"] for e in body["entries"]]
    check(names == ["b.txt", "img", "q3.md"], f"entries not sorted by name: {names}")
    expect_json(r, {"path": "<str>", "entries": [
        {"name": "b.txt", "is_dir": False, "size_bytes": 11, "updated_at": 1717400000.5},
        {"name": "img", "is_dir": True, "size_bytes": None, "updated_at": "<number>"},
        {"name": "q3.md", "is_dir": False, "size_bytes": 5, "updated_at": "<number>"}]})

    for spelling in ["reports/", "./reports", workdir.rstrip("/") + "/reports", "reports/img/.."]:
        r = srv.get(f"/workspace/directories?{_base(aid, sid)}&path={_q(spelling)}", user="ws-list")
        expect_status(r, 200, f"list {spelling!r}")
        check(r.json()["path"] == workdir.rstrip("/") + "/reports", f"{spelling!r}: {r.describe()}")

    root = srv.get(f"/workspace/directories?{_base(aid, sid)}", user="ws-list")
    expect_status(root, 200, "list root")
    check(root.json()["path"] == workdir.rstrip("/"), f"root path: {root.describe()}")
    check("reports" in [e["name"] for e in root.json()["entries"]], f"root entries: {root.describe()}")

    r = srv.get(f"/workspace/directories?{_base(aid, sid)}&path=reports%2Fq3.md", user="ws-list")
    expect_status(r, 400, "list a file")
    expect_json(r, {"detail": "Requested path is a file, not a directory."})
    r = srv.get(f"/workspace/directories?{_base(aid, sid)}&path=nope", user="ws-list")
    expect_status(r, 404, "list a missing directory")
    expect_json(r, {"detail": "Directory not found."})


def test_confinement(srv):
    """Paths leading out of the workspace answer like missing ones (ARCHITECTURE: confined paths)."""
    aid, sid, workdir, host = _setup(srv, "ws-jail")
    outside = os.path.join(srv.root, "outside")
    _write(os.path.join(outside, "secret.txt"), "host secret")
    os.symlink(outside, os.path.join(host, "escape"))
    os.symlink(os.path.join(outside, "secret.txt"), os.path.join(host, "leak.txt"))
    rel_out = os.path.relpath(outside, host)

    for path in [rel_out, outside, "/", "/etc", "escape", "../" * 12 + "etc"]:
        r = srv.get(f"/workspace/directories?{_base(aid, sid)}&path={_q(path)}", user="ws-jail")
        expect_status(r, 404, f"list {path!r}")
        expect_json(r, {"detail": "Directory not found."})
    for path in [rel_out + "/secret.txt", os.path.join(outside, "secret.txt"), "leak.txt",
                 "escape/secret.txt", "/etc/passwd", "../" * 12 + "etc/passwd"]:
        r = srv.get(f"/workspace/files?{_base(aid, sid)}&path={_q(path)}", user="ws-jail")
        expect_status(r, 404, f"read {path!r}")
        expect_json(r, {"detail": "File not found."})
        check(b"host secret" not in r.body, f"{path!r} leaked the file")

    # In a listing an escaping link says nothing about its target.
    r = srv.get(f"/workspace/directories?{_base(aid, sid)}", user="ws-jail")
    entries = {e["name"]: e for e in r.json()["entries"]}
    for name in ["escape", "leak.txt"]:
        check(entries.get(name) == {"name": name, "is_dir": False, "size_bytes": None, "updated_at": None},
              f"escaping link {name!r} listed as {entries.get(name)}")


def test_file_download_with_header(srv):
    aid, sid, _, host = _setup(srv, "ws-file")
    _write(os.path.join(host, "notes.txt"), "hello world")
    r = srv.get(f"/workspace/files?{_base(aid, sid)}&path=notes.txt", user="ws-file")
    expect_status(r, 200, "read notes.txt")
    check(r.body == b"hello world", f"body {r.body!r}")
    check(r.header("content-type") == "text/plain; charset=utf-8", f"content-type {r.header('content-type')!r}")
    check(r.header("content-length") == "11", f"content-length {r.header('content-length')!r}")
    check(r.header("content-disposition") is None, "content-disposition without download=true")

    r = srv.get(f"/workspace/files?{_base(aid, sid)}&path=", user="ws-file")
    expect_status(r, 400, "read the root")
    expect_json(r, {"detail": "Requested path is a directory, not a file."})


def test_large_file_streams_whole(srv):
    aid, sid, _, host = _setup(srv, "ws-big")
    data = os.urandom(3 * MiB + 123)
    _write(os.path.join(host, "blob.bin"), data)
    r = srv.get(f"/workspace/files?{_base(aid, sid)}&path=blob.bin", user="ws-big", timeout=30)
    expect_status(r, 200, "read blob.bin")
    check(r.body == data, f"body differs: {len(r.body)} bytes, expected {len(data)}")
    check(r.header("content-type") == "application/octet-stream", f"content-type {r.header('content-type')!r}")
    check(r.header("content-length") == str(len(data)), f"content-length {r.header('content-length')!r}")
    # A sized body is sent raw: Content-Length beside chunked framing would be invalid HTTP.
    check(r.header("transfer-encoding") is None, f"transfer-encoding {r.header('transfer-encoding')!r}")


def test_download_token_flow(srv):
    aid, sid, _, host = _setup(srv, "ws-token")
    _write(os.path.join(host, "reports", "résumé q3.md"), "# Q3\n")
    path = "reports/résumé q3.md"
    r = srv.post(f"/workspace/files/download-token?{_base(aid, sid)}&path={_q(path)}", user="ws-token")
    expect_status(r, 200, "mint")
    body = expect_json(r, {"token": "<str>", "expires_at": "<number>"})
    check(isinstance(body["expires_at"], float), f"expires_at must be a float: {r.text}")
    token = body["token"]
    check(token.startswith(f"{int(body['expires_at'])}.d3MtdG9rZW4."), f"token {token!r}")

    r = srv.get(f"/workspace/files?{_base(aid, sid)}&path={_q(path)}&download=true&token={_q(token)}", user=None)
    expect_status(r, 200, "download with token")
    check(r.body == b"# Q3\n", f"body {r.body!r}")
    check(r.header("content-disposition") == "attachment; filename*=UTF-8''r%C3%A9sum%C3%A9%20q3.md",
          f"content-disposition {r.header('content-disposition')!r}")
    check(r.header("content-type") == "text/markdown; charset=utf-8", f"content-type {r.header('content-type')!r}")

    # The token covers the exact path string only, and wins over a valid header.
    r = srv.get(f"/workspace/files?{_base(aid, sid)}&path={_q('./' + path)}&token={_q(token)}", user="ws-token")
    expect_status(r, 401, "token for another spelling")
    expect_json(r, {"detail": "Invalid download token."})
    r = srv.get(f"/workspace/files?{_base(aid, sid)}&path={_q(path)}&token=not-a-token", user="ws-token")
    expect_status(r, 401, "malformed token")
    expect_json(r, {"detail": "Malformed download token."})
    # Another user's session is not reachable with this user's token.
    other_aid = create_agent(srv, "other", user="ws-token-2")
    other_sid = create_session(srv, other_aid, user="ws-token-2")
    r = srv.get(f"/workspace/files?{_base(other_aid, other_sid)}&path={_q(path)}&token={_q(token)}", user=None)
    expect_status(r, 404, "token of another user")
    expect_json(r, {"detail": f"Session '{other_sid}' not found."})


def test_validation_and_identity(srv):
    aid, sid, _, _ = _setup(srv, "ws-val")
    r = srv.get("/workspace/directories", user=None)
    expect_status(r, 422, "no header, no query")
    expect_json(r, {"detail": [
        {"type": "missing", "loc": ["header", "x-user-id"], "msg": "Field required", "input": None},
        {"type": "missing", "loc": ["query", "agent_id"], "msg": "Field required", "input": None},
        {"type": "missing", "loc": ["query", "session_id"], "msg": "Field required", "input": None}]})
    r = srv.get(f"/workspace/status?{_base(aid, sid)}", user="")
    expect_status(r, 401, "empty header")
    expect_json(r, {"detail": "X-User-ID header is required."})
    r = srv.post(f"/workspace/files/download-token?{_base(aid, sid)}", user="ws-val")
    expect_status(r, 422, "token without path")
    expect_json(r, {"detail": [{"type": "missing", "loc": ["query", "path"], "msg": "Field required",
                                "input": None}]})
    r = srv.get(f"/workspace/files?{_base(aid, sid)}&path=x&download=maybe", user=None)
    expect_status(r, 422, "bad download flag")
    expect_json(r, {"detail": [{"type": "bool_parsing", "loc": ["query", "download"],
                                "msg": "Input should be a valid boolean, unable to interpret input",
                                "input": "maybe"}]})
    r = srv.get(f"/workspace/files?{_base(aid, sid)}&path=x", user=None)
    expect_status(r, 401, "no identity")
    expect_json(r, {"detail": "X-User-ID header or download token is required."})
    for route in ["directories", "status"]:
        r = srv.get(f"/workspace/{route}?agent_id={aid}&session_id=nope", user="ws-val")
        expect_status(r, 404, f"{route} of a missing session")
        expect_json(r, {"detail": "Session 'nope' not found."})
    r = srv.get(f"/workspace/status?agent_id=other-agent&session_id={sid}", user="ws-val")
    expect_status(r, 404, "session of another agent")
    expect_json(r, {"detail": f"Session '{sid}' not found."})


def test_status_reads_git_in_the_session_cwd(srv):
    if not shutil.which("git"):
        return  # git status needs a git binary; without one the summary is null by design
    aid, sid, workdir, host = _setup(srv, "ws-git")
    r = srv.get(f"/workspace/status?{_base(aid, sid)}", user="ws-git")
    expect_json(r, {"workdir": workdir, "cwd": workdir, "git": None})

    repo = os.path.join(host, "proj")
    os.makedirs(repo)
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@e", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@e")

    def git(*args):
        subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    _write(os.path.join(repo, "a.txt"), "one\ntwo\n")
    _write(os.path.join(repo, "b.txt"), "x\n")
    git("add", "a.txt", "b.txt")
    git("commit", "-q", "-m", "init")
    _write(os.path.join(repo, "a.txt"), "one\nTWO\nthree\n")   # unstaged: +2 -1
    _write(os.path.join(repo, "b.txt"), "y\n")
    git("add", "b.txt")                                        # staged: +1 -1
    _write(os.path.join(repo, "new.txt"), "n\n")               # untracked

    r = srv.patch(f"/sessions/{sid}?agent_id={aid}", json={"cwd": "proj"}, user="ws-git")
    expect_status(r, 200, "set cwd")
    r = srv.get(f"/workspace/status?{_base(aid, sid)}", user="ws-git")
    expect_status(r, 200, "status in repo")
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True).stdout.strip()
    expect_json(r, {"workdir": workdir, "cwd": workdir.rstrip("/") + "/proj",
                    "git": {"branch": "main", "head": head, "ahead": None, "behind": None,
                            "insertions": 3, "deletions": 2, "staged": 1, "unstaged": 1, "untracked": 1,
                            "conflicted": 0}})

    r = srv.patch(f"/sessions/{sid}?agent_id={aid}", json={"cwd": "/etc"}, user="ws-git")
    expect_status(r, 200, "cwd outside")
    r = srv.get(f"/workspace/status?{_base(aid, sid)}", user="ws-git")
    expect_json(r, {"workdir": workdir, "cwd": "/etc", "git": None})
