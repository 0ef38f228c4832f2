#!/usr/bin/env python3
"""Black-box integration tests for agentd.

    python3 tests/integration/run.py --binary build/agentd [--filter NAME] [-j N]

Every group (one case file in cases/, or one test_*.py module) gets its own
server: ``BINARY serve --host 127.0.0.1 --port 0 --data-dir <fresh dir>
--port-file <file>``, stopped with SIGTERM at the end (it must exit 0 within
10 s). Prints ``ok NAME`` / ``FAIL NAME: reason`` per test and finally
``N passed, M failed``; the exit status is 0 iff nothing failed.
"""

import argparse
import concurrent.futures
import fnmatch
import glob
import importlib.util
import os
import sys
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # keep the source tree clean

from lib import server as server_mod  # noqa: E402
from lib import transcript  # noqa: E402


class Reporter:
    def __init__(self, verbose=False):
        self.lock = threading.Lock()
        self.passed = 0
        self.failed = 0
        self.verbose = verbose

    def ok(self, name, seconds=None):
        with self.lock:
            self.passed += 1
            extra = f" ({seconds:.2f}s)" if self.verbose and seconds is not None else ""
            print(f"ok {name}{extra}", flush=True)

    def fail(self, name, reason, details=None):
        reason = " ".join(str(reason).split())
        if len(reason) > 700:
            reason = reason[:697] + "..."
        with self.lock:
            self.failed += 1
            print(f"FAIL {name}: {reason}", flush=True)
            if self.verbose and details:
                for line in details.rstrip().splitlines():
                    print(f"    {line}", flush=True)


def name_matches(pattern, name):
    if pattern is None:
        return True
    if any(c in pattern for c in "*?["):
        return fnmatch.fnmatchcase(name, pattern)
    return pattern in name


class Group:
    """A unit that runs against one server."""

    def __init__(self, name, kind, payload):
        self.name = name
        self.kind = kind  # "cases" or "code"
        self.payload = payload


def discover(filter_pattern):
    groups = []
    errors = []
    for path in sorted(glob.glob(os.path.join(HERE, "cases", "*.json"))):
        gname = os.path.splitext(os.path.basename(path))[0]
        try:
            description, variables, steps = transcript.load_case_file(path)
        except transcript.CaseError as e:
            errors.append((f"{gname}/_load", str(e)))
            continue
        selected = [name_matches(filter_pattern, f"{gname}/{s['name']}") for s in steps]
        if filter_pattern is not None and name_matches(filter_pattern, gname):
            selected = [True] * len(steps)
        if any(selected):
            last = max(i for i, sel in enumerate(selected) if sel)
            groups.append(Group(gname, "cases", (variables, steps[: last + 1],
                                                  selected[: last + 1])))
    for path in sorted(glob.glob(os.path.join(HERE, "test_*.py"))):
        mname = os.path.splitext(os.path.basename(path))[0]
        gname = mname[len("test_"):]
        try:
            spec = importlib.util.spec_from_file_location(f"it_{mname}", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        except Exception as e:  # noqa: BLE001
            errors.append((f"{gname}/_import", f"{type(e).__name__}: {e}"))
            continue
        shared = []
        for attr, fn in vars(module).items():
            if not (attr.startswith("test_") and callable(fn)):
                continue
            tname = f"{gname}/{attr[len('test_'):]}"
            if not name_matches(filter_pattern, tname):
                continue
            if getattr(fn, "own_server", False):
                groups.append(Group(tname, "code", [(tname, fn)]))
            else:
                shared.append((tname, fn))
        if shared:
            groups.append(Group(gname, "code", shared))
    return groups, errors


def make_server(args, label):
    return server_mod.Server(args.binary, extra_args=args.server_arg,
                             extra_env=dict(kv.split("=", 1) for kv in args.env),
                             keep=args.keep, label=label)


def finish_group(srv, group, rep):
    reason = srv.healthy()
    if reason:
        rep.fail(f"{group.name}/_alive", reason, srv.log_tail())
    else:
        rep.ok(f"{group.name}/_alive")
    reason = srv.stop()
    if reason:
        rep.fail(f"{group.name}/_shutdown", reason)
    else:
        rep.ok(f"{group.name}/_shutdown")
    srv.cleanup()


def run_cases(group, args, rep):
    variables, steps, selected = group.payload
    srv = make_server(args, group.name)
    try:
        srv.start()
    except server_mod.ServerError as e:
        for step, sel in zip(steps, selected):
            if sel:
                rep.fail(f"{group.name}/{step['name']}", f"server did not start: {e}")
        srv.cleanup()
        return
    variables = dict(variables)
    variables.update(port=srv.port, host=srv.host, base_url=f"http://{srv.host}:{srv.port}",
                     user=transcript.DEFAULT_USER)
    broken = None  # set once the server stops answering; later steps are not run
    for step, sel in zip(steps, selected):
        name = f"{group.name}/{step['name']}"
        if broken:
            if sel:
                rep.fail(name, f"not run: {broken}")
            continue
        t0 = time.monotonic()
        try:
            transcript.run_step(srv, step, variables)
        except transcript.StepFailure as e:
            if sel:
                rep.fail(name, e, srv.log_tail(1500) if not srv.alive() else None)
            if "request failed" in str(e):
                unhealthy = srv.healthy(timeout=3)
                if unhealthy:
                    broken = f"server unhealthy after step {step['name']!r}: {unhealthy}"
            continue
        except Exception as e:  # noqa: BLE001
            if sel:
                rep.fail(name, f"runner error {type(e).__name__}: {e}", traceback.format_exc())
            continue
        if sel:
            rep.ok(name, time.monotonic() - t0)
    finish_group(srv, group, rep)


def run_code(group, args, rep):
    srv = make_server(args, group.name)
    try:
        srv.start()
    except server_mod.ServerError as e:
        for tname, _ in group.payload:
            rep.fail(tname, f"server did not start: {e}")
        srv.cleanup()
        return
    for tname, fn in group.payload:
        t0 = time.monotonic()
        failure = None
        details = None
        try:
            fn(srv)
        except AssertionError as e:
            failure = str(e) or "assertion failed"
            details = traceback.format_exc()
        except Exception as e:  # noqa: BLE001
            failure = f"{type(e).__name__}: {e}"
            details = traceback.format_exc()
        unhealthy = srv.healthy()
        if unhealthy:
            failure = (failure + "; " if failure else "") + f"server unhealthy afterwards: {unhealthy}"
            details = (details or "") + "\n" + srv.log_tail()
        if failure:
            rep.fail(tname, failure, details)
        else:
            rep.ok(tname, time.monotonic() - t0)
        if unhealthy:
            # Keep going with a fresh server so later tests still give signal.
            srv.kill()
            srv.cleanup()
            srv = make_server(args, group.name)
            try:
                srv.start()
            except server_mod.ServerError as e:
                rep.fail(f"{group.name}/_restart", f"server did not restart: {e}")
                srv.cleanup()
                return
    finish_group(srv, group, rep)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default="build/agentd", help="path to the agentd binary")
    ap.add_argument("--filter", default=None,
                    help="run tests whose 'group/test' name contains this text "
                         "(or matches it as a glob when it has * ? [)")
    ap.add_argument("-j", "--jobs", type=int, default=2, help="groups run in parallel")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="print timings and failure details")
    ap.add_argument("--keep", action="store_true", help="keep server data dirs and logs")
    ap.add_argument("--server-arg", action="append", default=[],
                    help="extra argument for 'agentd serve' (repeatable)")
    ap.add_argument("--env", action="append", default=[],
                    help="KEY=VALUE for the server environment (repeatable)")
    ap.add_argument("--list", action="store_true", help="list groups and exit")
    args = ap.parse_args(argv)

    rep = Reporter(args.verbose)
    args.binary = os.path.abspath(args.binary)
    groups, errors = discover(args.filter)
    if args.list:
        for g in groups:
            print(g.name)
        return 0
    for name, reason in errors:
        rep.fail(name, reason)
    if not (os.path.isfile(args.binary) and os.access(args.binary, os.X_OK)):
        rep.fail("_setup", f"binary {args.binary} not found or not executable")
        print(f"{rep.passed} passed, {rep.failed} failed", flush=True)
        return 1

    # Code groups (the slow ones) first, so -j keeps every worker busy to the end.
    groups.sort(key=lambda g: (g.kind != "code", g.name))

    def run_group(group):
        try:
            if group.kind == "cases":
                run_cases(group, args, rep)
            else:
                run_code(group, args, rep)
        except Exception as e:  # noqa: BLE001
            rep.fail(f"{group.name}/_runner", f"{type(e).__name__}: {e}", traceback.format_exc())

    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            list(pool.map(run_group, groups))
    except KeyboardInterrupt:
        server_mod._kill_all()
        raise
    print(f"{rep.passed} passed, {rep.failed} failed", flush=True)
    return 0 if rep.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
