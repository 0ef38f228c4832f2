"""Starting and stopping the agentd binary under test."""

import atexit
import json as _json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import sys
import time

from . import http

_LIVE = set()
_LIVE_LOCK = threading.Lock()
_FAKES = set()  # fake LLM providers started for servers (stopped at exit)

_FAKE_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "fixtures", "fake_provider")


def _kill_all():
    with _LIVE_LOCK:
        procs = list(_LIVE)
    for p in procs:
        if p.poll() is None:
            try:
                p.kill()
                p.wait(5)
            except OSError:
                pass


def _stop_fakes():
    for fake in list(_FAKES):
        try:
            fake.stop()
        except Exception:  # noqa: BLE001 - best effort at exit
            pass


atexit.register(_kill_all)
atexit.register(_stop_fakes)


class ServerError(Exception):
    pass


class Server:
    """One agentd process with a fresh data directory.

    ``srv.request(...)`` sends a request with ``X-User-ID: alice`` unless
    ``user`` says otherwise (``user=None`` sends no identity header).
    """

    host = "127.0.0.1"

    def __init__(self, binary, extra_args=(), extra_env=None, keep=False, label="agentd"):
        self.binary = os.path.abspath(binary) if os.sep in binary else binary
        self.extra_args = list(extra_args)
        self.extra_env = dict(extra_env or {})
        self.keep = keep
        self.label = label
        self.proc = None
        self.port = None
        self.root = None
        self.data_dir = None
        self.log_path = None
        self._log = None
        self.cleanup_paths = []
        self.fake = None  # the FakeProvider of fake_provider(), if started

    # -- lifecycle -----------------------------------------------------
    def clone(self, label=None):
        """A new, not yet started Server with the same binary, flags and env."""
        return Server(self.binary, self.extra_args, self.extra_env, self.keep,
                      label or self.label + "-2")

    def start(self, timeout=20.0, data_dir=None):
        """Start the server; ``data_dir`` reuses an existing data directory."""
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in self.label)[:40]
        self.root = tempfile.mkdtemp(prefix=f"agentd-it-{safe}-")
        if data_dir is None:
            self.data_dir = os.path.join(self.root, "data")
            os.mkdir(self.data_dir)
        else:
            self.data_dir = data_dir
        port_file = os.path.join(self.root, "port")
        self.log_path = os.path.join(self.root, "server.log")
        env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTD_")}
        env.update(self.extra_env)
        cmd = [self.binary, "serve", "--host", self.host, "--port", "0",
               "--data-dir", self.data_dir, "--port-file", port_file] + self.extra_args
        self._log = open(self.log_path, "wb")
        try:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self._log,
                                         stderr=subprocess.STDOUT, env=env, cwd=self.root,
                                         start_new_session=True)
        except OSError as e:
            raise ServerError(f"cannot execute {self.binary}: {e}") from None
        with _LIVE_LOCK:
            _LIVE.add(self.proc)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rc = self.proc.poll()
            if rc is not None:
                raise ServerError(f"server exited during start-up with rc {rc}; "
                                  f"log: {self.log_tail(600)!r}")
            try:
                with open(port_file) as f:
                    text = f.read().strip()
                if text:
                    self.port = int(text)
                    if 0 < self.port < 65536:
                        return
            except (OSError, ValueError):
                pass
            time.sleep(0.02)
        self.kill()
        raise ServerError(f"port file not written within {timeout:.0f}s; "
                          f"log: {self.log_tail(600)!r}")

    def restart(self, keep_data=True, timeout=10.0):
        """SIGTERM, then start again (on the same data dir by default).

        Returns the stop() reason (None on a clean exit 0).
        """
        reason = self.stop(timeout)
        old_root, old_data = self.root, self.data_dir
        self.cleanup_paths.append(old_root)
        self.start(data_dir=old_data if keep_data else None)
        return reason

    def ensure_args(self, args):
        """Make sure the server runs with ``args`` (a list of flags and values).

        If ``args`` is not already a contiguous part of the command line, the
        server is stopped and started again with a fresh data dir and ``args``
        appended. Tests that need e.g. ``--debug-tools`` call this first; the
        restart happens once per server. Returns None, or the stop() reason.
        """
        args = [str(a) for a in args]
        n = len(args)
        have = self.extra_args
        if any(have[i:i + n] == args for i in range(len(have) - n + 1)):
            return None
        reason = self.stop() if self.proc is not None else None
        if self.root:
            self.cleanup_paths.append(self.root)
        self.extra_args = have + args
        self.start()
        return reason

    def crash_restart(self, timeout=20.0):
        """SIGKILL the server (kill -9, no cleanup) and start it on the same data dir."""
        self.kill()
        old_root, old_data = self.root, self.data_dir
        self.cleanup_paths.append(old_root)
        self.start(timeout=timeout, data_dir=old_data)

    def fake_provider(self):
        """The scripted fake LLM provider that belongs to this server (started
        on first use, stopped by cleanup() and at exit); see
        tests/fixtures/fake_provider/README.md."""
        if self.fake is None:
            if _FAKE_DIR not in sys.path:
                sys.path.insert(0, _FAKE_DIR)
            from control import FakeProvider  # noqa: E402 - path set just above

            fake = FakeProvider(script=[])
            fake.start()
            _FAKES.add(fake)
            self.fake = fake
        return self.fake

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=10.0):
        """SIGTERM the server; return None on a clean exit 0, else a reason."""
        if self.proc is None:
            return "server was never started"
        reason = None
        rc = self.proc.poll()
        if rc is not None:
            reason = f"server had already exited with rc {rc}"
        else:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout)
                if rc != 0:
                    reason = f"exit status {rc} after SIGTERM (expected 0)"
            except subprocess.TimeoutExpired:
                self.kill()
                reason = f"did not exit within {timeout:.0f}s of SIGTERM"
        self._finish()
        if reason:
            reason += f"; log: {self.log_tail(400)!r}"
        return reason

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                self.proc.kill()
            self.proc.wait(5)
        self._finish()

    def _finish(self):
        with _LIVE_LOCK:
            _LIVE.discard(self.proc)
        if self._log:
            self._log.close()
            self._log = None

    def cleanup(self):
        if self.fake is not None:
            try:
                self.fake.stop()
            finally:
                _FAKES.discard(self.fake)
                if self.fake.dir and not self.keep:
                    shutil.rmtree(self.fake.dir, ignore_errors=True)
                self.fake = None
        if self.root and not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)
        for extra in self.cleanup_paths:
            if not self.keep:
                shutil.rmtree(extra, ignore_errors=True)

    def log_tail(self, n=2000):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(0, os.SEEK_END)
                size = f.tell()
                f.seek(max(0, size - n))
                return f.read().decode("utf-8", "replace")
        except (OSError, TypeError):
            return ""

    # -- requests ------------------------------------------------------
    def request(self, method, path, json=None, body=None, headers=None, user="alice",
                timeout=10.0, content_type="application/json"):
        hdrs = {}
        if user is not None:
            hdrs["X-User-ID"] = user
        if json is not None:
            body = _json.dumps(json, ensure_ascii=False).encode("utf-8")
        if body is not None and content_type:
            hdrs["Content-Type"] = content_type
        for k, v in (headers or {}).items():
            for existing in [e for e in hdrs if e.lower() == k.lower()]:
                del hdrs[existing]
            if v is not None:
                hdrs[k] = v
        return http.request(self.host, self.port, method, path, body=body, headers=hdrs,
                            timeout=timeout)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, json=None, **kw):
        return self.request("POST", path, json=json, **kw)

    def patch(self, path, json=None, **kw):
        return self.request("PATCH", path, json=json, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def healthy(self, timeout=5.0):
        """Return None if GET /health answers 200, else a reason."""
        if not self.alive():
            return f"server process is gone (rc {self.proc.poll() if self.proc else None})"
        try:
            r = self.get("/health", user="healthcheck", timeout=timeout)
        except OSError as e:
            return f"GET /health failed: {e}"
        if r.status != 200:
            return f"GET /health answered {r.describe(200)}"
        return None
