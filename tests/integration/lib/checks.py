"""Assertion helpers and registration decorators for code tests (test_*.py).

A code test is a module-level function ``test_<name>(srv)`` in a file
``tests/integration/test_<group>.py``. ``srv`` is a started
``lib.server.Server``. Tests of one module share one server and run in
definition order; after each test the runner checks that ``GET /health``
still answers 200. Decorate with ``@own_server`` to get a fresh server.
Fail by raising AssertionError (any other exception also fails the test).
"""

import json

from . import match as m


def own_server(fn):
    """Run this test against its own freshly started server."""
    fn.own_server = True
    return fn


def expect_status(resp, status, what=""):
    ok = resp.status in status if isinstance(status, (list, tuple, set)) else resp.status == status
    if not ok:
        prefix = f"{what}: " if what else ""
        raise AssertionError(f"{prefix}expected status {status}, got {resp.describe()}")
    return resp


def expect_json(resp, expected, subset=False, what=""):
    try:
        m.match(expected, resp.json(), subset=subset)
    except m.Mismatch as e:
        prefix = f"{what}: " if what else ""
        raise AssertionError(f"{prefix}{e} [status {resp.status}]") from None
    return resp.json()


def check(cond, message):
    if not cond:
        raise AssertionError(message)


def short(value, limit=200):
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 3] + "..."


def create_agent(srv, name="agent", user="alice", **fields):
    r = srv.post("/agent/", json={"name": name, **fields}, user=user)
    expect_status(r, 201, f"create agent {name!r}")
    return r.json()["agent_id"]


def list_agents(srv, user="alice"):
    r = srv.get("/agent/", user=user)
    expect_status(r, 200, "list agents")
    return r.json()


def create_credential(srv, data, user="alice"):
    r = srv.post("/credential/", json={"data": data}, user=user)
    expect_status(r, 201, "create credential")
    return r.json()["credential_id"]


def list_credentials(srv, user="alice"):
    r = srv.get("/credential/", user=user)
    expect_status(r, 200, "list credentials")
    return r.json()


def create_session(srv, agent_id, user="alice", **fields):
    r = srv.post("/sessions/", json={"agent_id": agent_id, **fields}, user=user)
    expect_status(r, 201, "create session")
    return r.json()["session_id"]
