"""Concurrent writers: every request succeeds and the final state is consistent."""

import threading

from lib.checks import check, create_agent, create_session, list_agents, list_credentials


def _parallel(n, fn):
    """Run fn(i) in n threads started together; return the results (exceptions included)."""
    results = [None] * n
    barrier = threading.Barrier(n)

    def run(i):
        try:
            barrier.wait(10)
            results[i] = fn(i)
        except Exception as e:  # noqa: BLE001 - reported by the caller
            results[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


def test_concurrent_agent_create_then_delete(srv):
    created = _parallel(20, lambda i: srv.post("/agent/", json={"name": f"c{i}"}, user="conc"))
    bad = [r if isinstance(r, Exception) else r.describe() for r in created
           if isinstance(r, Exception) or r.status != 201]
    check(not bad, f"concurrent creates failed: {bad[:3]}")
    ids = [r.json()["agent_id"] for r in created]
    check(len(set(ids)) == 20, f"duplicate agent ids among {ids}")
    listed = list_agents(srv, user="conc")
    check(listed["total"] == 20 and sorted(a["id"] for a in listed["agents"]) == sorted(ids),
          f"list after concurrent creates has {listed['total']} agents, expected the 20 created")
    check(sorted(a["data"]["name"] for a in listed["agents"]) == sorted(f"c{i}" for i in range(20)),
          "names do not match the created agents")
    deleted = _parallel(20, lambda i: srv.delete(f"/agent/{ids[i]}", user="conc"))
    bad = [r if isinstance(r, Exception) else r.describe() for r in deleted
           if isinstance(r, Exception) or r.status != 204]
    check(not bad, f"concurrent deletes failed: {bad[:3]}")
    listed = list_agents(srv, user="conc")
    check(listed == {"agents": [], "total": 0}, f"list after deletes: {listed}")


def test_concurrent_double_delete_one_winner(srv):
    aid = create_agent(srv, "contended", user="dd")
    results = _parallel(10, lambda i: srv.delete(f"/agent/{aid}", user="dd"))
    statuses = sorted(r.status if not isinstance(r, Exception) else repr(r) for r in results)
    check(statuses.count(204) == 1 and statuses.count(404) == 9,
          f"10 concurrent deletes of one agent gave {statuses}, expected one 204 and nine 404")


def test_concurrent_tenants_stay_isolated(srv):
    def work(i):
        user = f"tenant{i % 4}"
        r = srv.post("/agent/", json={"name": f"{user}-{i}"}, user=user)
        return user, r

    results = _parallel(24, work)
    for res in results:
        check(not isinstance(res, Exception) and res[1].status == 201, f"create failed: {res!r}")
    for t in range(4):
        listed = list_agents(srv, user=f"tenant{t}")
        check(listed["total"] == 6, f"tenant{t} sees {listed['total']} agents, expected 6")
        check(all(a["user_id"] == f"tenant{t}" and a["data"]["name"].startswith(f"tenant{t}-")
                  for a in listed["agents"]), f"tenant{t} sees another tenant's agent")


def test_concurrent_session_creates(srv):
    aid = create_agent(srv, "busy", user="sess")
    results = _parallel(20, lambda i: srv.post("/sessions/", json={"agent_id": aid,
                                                                   "name": f"s{i}"}, user="sess"))
    bad = [r for r in results if isinstance(r, Exception) or r.status != 201]
    check(not bad, f"concurrent session creates failed: {bad[:3]}")
    ids = {r.json()["session_id"] for r in results}
    check(len(ids) == 20, "duplicate session ids")
    r = srv.get(f"/sessions/?agent_id={aid}", user="sess")
    listed = r.json()
    check(listed["total"] == 20 and {v["session"]["id"] for v in listed["sessions"]} == ids,
          f"session list has {listed.get('total')} entries, expected the 20 created")
    times = [v["session"]["created_at"] for v in listed["sessions"]]
    check(times == sorted(times, reverse=True), "sessions not listed newest first")


def test_concurrent_patches_last_writer_wins_cleanly(srv):
    aid = create_agent(srv, "patched", user="pat")
    results = _parallel(20, lambda i: srv.patch(f"/agent/{aid}",
                                                json={"system_prompt": f"prompt {i}"},
                                                user="pat"))
    check(all(not isinstance(r, Exception) and r.status == 200 for r in results),
          f"concurrent PATCHes failed: {[getattr(r, 'status', r) for r in results]}")
    agent = list_agents(srv, user="pat")["agents"][0]
    check(agent["data"]["system_prompt"] in {f"prompt {i}" for i in range(20)},
          f"final prompt {agent['data']['system_prompt']!r} is none of the written values")
    check(agent["data"]["name"] == "patched", "a concurrent PATCH lost the name")


def test_concurrent_session_patches(srv):
    aid = create_agent(srv, "sp", user="spat")
    sid = create_session(srv, aid, user="spat")
    modes = ["default", "accept_edits", "explore", "bypass", "dont_ask"]
    results = _parallel(20, lambda i: srv.patch(
        f"/sessions/{sid}?agent_id={aid}",
        json={"permission_mode": modes[i % 5], "cwd": f"dir{i}"}, user="spat"))
    check(all(not isinstance(r, Exception) and r.status == 200 for r in results),
          f"concurrent session PATCHes failed: {[getattr(r, 'status', r) for r in results]}")
    view = srv.get(f"/sessions/?agent_id={aid}", user="spat").json()["sessions"][0]["session"]
    check(view["state"]["permission_context"]["mode"] in modes, "unexpected mode")
    check(view["config"]["cwd"] in {f"dir{i}" for i in range(20)}, "unexpected cwd")


def test_concurrent_credential_auto_names_distinct(srv):
    """Auto-naming under concurrency still yields distinct names (Openai, Openai (2), ...).

    Stricter than the reference (whose check-then-write can race); a duplicate name
    here means the first-free-number rule is not applied atomically.
    """
    results = _parallel(10, lambda i: srv.post(
        "/credential/", json={"data": {"type": "openai_credential", "api_key": f"sk-{i:012d}"}},
        user="names"))
    check(all(not isinstance(r, Exception) and r.status == 201 for r in results),
          f"concurrent credential creates failed: {[getattr(r, 'status', r) for r in results]}")
    names = sorted(c["data"]["name"] for c in list_credentials(srv, user="names")["credentials"])
    expected = sorted(["Openai"] + [f"Openai ({i})" for i in range(2, 11)])
    check(names == expected, f"auto names {names}, expected {expected}")


def test_delete_agent_while_creating_sessions(srv):
    """Deleting an agent while sessions are being created on it: every request gets a
    clean status, and afterwards no session of the agent is reachable or listed.

    The interleaving is random, so the scenario runs several rounds.
    """
    orphans = []
    for round_ in range(4):
        user = f"race{round_}"
        aid = create_agent(srv, "doomed", user=user)

        def work(i, aid=aid, user=user):
            if i == 3:
                return srv.delete(f"/agent/{aid}", user=user)
            return srv.post("/sessions/", json={"agent_id": aid}, user=user)

        results = _parallel(24, work)
        for r in results:
            check(not isinstance(r, Exception), f"request failed: {r!r}")
        check(results[3].status == 204, f"delete returned {results[3].describe()}")
        for i, r in enumerate(results):
            if i != 3:
                check(r.status in (201, 404), f"session create during delete: {r.describe()}")
        r = srv.get(f"/sessions/?agent_id={aid}", user=user)
        check(r.status == 404, f"listing sessions of the deleted agent: {r.describe()}")
        for i, r in enumerate(results):
            if i != 3 and r.status == 201:
                sid = r.json()["session_id"]
                st = srv.get(f"/sessions/{sid}/status?agent_id={aid}", user=user)
                if st.status != 404:
                    orphans.append(sid)
    check(not orphans, f"{len(orphans)} session(s) of a deleted agent survived the cascade "
          "(a session insert raced the agent delete and was committed after it)")


def test_concurrent_reads_during_writes(srv):
    """Readers never see a half-written list (always valid JSON, total == len(agents))."""
    stop = threading.Event()
    problems = []

    def reader():
        while not stop.is_set():
            try:
                r = srv.get("/agent/", user="rw")
                data = r.json()
                if r.status != 200 or data["total"] != len(data["agents"]):
                    problems.append(r.describe())
            except Exception as e:  # noqa: BLE001
                problems.append(repr(e))

    readers = [threading.Thread(target=reader) for _ in range(4)]
    for t in readers:
        t.start()
    try:
        results = _parallel(10, lambda i: srv.post("/agent/", json={"name": f"rw{i}"}, user="rw"))
    finally:
        stop.set()
        for t in readers:
            t.join(30)
    check(all(not isinstance(r, Exception) and r.status == 201 for r in results), "creates failed")
    check(not problems, f"inconsistent reads: {problems[:3]}")
