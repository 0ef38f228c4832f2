"""Connection handling: keep-alive, pipelining, slow or idle clients must not block others."""

import socket
import threading
import time

from lib import http
from lib.checks import check, expect_json, expect_status

FAST = 3.0  # seconds a plain request may take while other clients misbehave


def _timed_health(srv, user="alice"):
    t0 = time.monotonic()
    r = srv.get("/health", user=user, timeout=10)
    return r, time.monotonic() - t0


def _assert_responsive(srv, what, n=5):
    for _ in range(n):
        r, took = _timed_health(srv)
        expect_status(r, 200, what)
        check(took < FAST, f"{what}: GET /health took {took:.2f}s")


def test_keep_alive_reuses_connection(srv):
    sock = http.connect(srv.host, srv.port)
    try:
        reader = http.ResponseReader(sock)
        for i in range(5):
            sock.sendall(f"GET /health HTTP/1.1\r\nHost: x\r\nX-User-ID: u{i}\r\n\r\n".encode())
            r = reader.read()
            check(r is not None, f"request {i} on a kept-alive connection got no response")
            expect_status(r, 200, f"keep-alive request {i}")
            expect_json(r, {"status": "ok"}, subset=True)
    finally:
        sock.close()


def test_pipelined_requests_answered_in_order(srv):
    reqs = b"".join(
        f"GET {p} HTTP/1.1\r\nHost: x\r\nX-User-ID: alice\r\n\r\n".encode()
        for p in ("/health", "/nope", "/agent/", "/health/"))
    responses, closed, err = http.raw_exchange(srv.host, srv.port, reqs, responses=4)
    check(len(responses) == 4, f"expected 4 pipelined responses, got {len(responses)} ({err!r})")
    check([r.status for r in responses] == [200, 404, 200, 307],
          f"pipelined statuses {[r.status for r in responses]}, expected [200, 404, 200, 307]")


def test_pipelined_posts_with_bodies(srv):
    body = b'{"name":"piped"}'
    one = (f"POST /agent/ HTTP/1.1\r\nHost: x\r\nX-User-ID: piper\r\n"
           f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
    responses, closed, err = http.raw_exchange(srv.host, srv.port, one * 3, responses=3)
    check([r.status for r in responses] == [201, 201, 201],
          f"pipelined POST statuses {[r.status for r in responses]} ({err!r})")
    r = srv.get("/agent/", user="piper")
    expect_json(r, {"total": 3}, subset=True)


def test_http10_request_closes(srv):
    raw = b"GET /health HTTP/1.0\r\nX-User-ID: alice\r\n\r\n"
    responses, closed, err = http.raw_exchange(srv.host, srv.port, raw, responses=2)
    check(len(responses) >= 1, f"no response to HTTP/1.0 ({err!r})")
    expect_status(responses[0], 200, "HTTP/1.0 GET /health")
    check(closed, "server kept an HTTP/1.0 connection open without keep-alive")


def test_http10_keep_alive_answered_with_keep_alive(srv):
    """An HTTP/1.0 client asking for keep-alive gets the header back and a second answer."""
    sock = http.connect(srv.host, srv.port)
    try:
        reader = http.ResponseReader(sock)
        for i in range(2):
            sock.sendall(b"GET /health HTTP/1.0\r\nX-User-ID: alice\r\nConnection: keep-alive\r\n\r\n")
            r = reader.read()
            check(r is not None, f"HTTP/1.0 keep-alive request {i} got no response")
            expect_status(r, 200, f"HTTP/1.0 keep-alive request {i}")
            check(r.header("Connection", "").lower() == "keep-alive",
                  f"HTTP/1.0 keep-alive answer carries Connection {r.header('Connection')!r}")
            check(r.header("Content-Length") == str(len(r.body)), "Content-Length differs from the body")
    finally:
        sock.close()


def test_response_head_fields_once_each_in_order(srv):
    """Server, Content-Type, the route's own headers, Content-Length, Connection: each once."""
    raw = b"GET /health HTTP/1.1\r\nHost: x\r\nX-User-ID: alice\r\nConnection: close\r\n\r\n"
    responses, closed, err = http.raw_exchange(srv.host, srv.port, raw, responses=1)
    check(len(responses) == 1, f"no response ({err!r})")
    names = [k.lower() for k, _ in responses[0].headers]
    check(len(names) == len(set(names)), f"a header appears twice: {names}")
    check(names[:2] == ["server", "content-type"], f"header order {names}")
    check(names[-2:] == ["content-length", "connection"], f"header order {names}")
    check(responses[0].header("x-request-id") is not None, "no x-request-id")


def test_head_has_the_get_length_and_no_body(srv):
    sock = http.connect(srv.host, srv.port)
    try:
        reader = http.ResponseReader(sock)
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-User-ID: alice\r\n\r\n")
        got = reader.read()
        # A HEAD then a GET on the same connection: had the HEAD carried a body,
        # the GET's answer would not parse.
        sock.sendall(b"HEAD /health HTTP/1.1\r\nHost: x\r\nX-User-ID: alice\r\n\r\n"
                     b"GET /health HTTP/1.1\r\nHost: x\r\nX-User-ID: alice\r\n\r\n")
        head = reader.read(head=True)
        again = reader.read()
        expect_status(head, 200, "HEAD /health")
        check(head.header("Content-Length") == str(len(got.body)),
              f"HEAD Content-Length {head.header('Content-Length')!r}, GET body {len(got.body)} bytes")
        check(head.body == b"", "HEAD answer has a body")
        expect_status(again, 200, "GET after HEAD")
        check(again.body == got.body, "GET after HEAD differs")
    finally:
        sock.close()


def test_connection_close_honoured(srv):
    raw = b"GET /health HTTP/1.1\r\nHost: x\r\nX-User-ID: alice\r\nConnection: close\r\n\r\n"
    responses, closed, err = http.raw_exchange(srv.host, srv.port, raw, responses=2)
    check(len(responses) == 1, f"expected one response, got {len(responses)} ({err!r})")
    expect_status(responses[0], 200, "Connection: close")
    check(closed, "server did not close after 'Connection: close'")


def test_half_closed_client_still_answered(srv):
    """The client sends a request and shuts down its write side (curl, netcat)."""
    sock = http.connect(srv.host, srv.port)
    try:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-User-ID: alice\r\n\r\n")
        sock.shutdown(socket.SHUT_WR)
        r = http.ResponseReader(sock).read()
        check(r is not None, "no response after the client half-closed")
        expect_status(r, 200, "half-closed client")
    finally:
        sock.close()


def test_idle_connections_do_not_block(srv):
    """200 connections that never send a byte must not starve other clients."""
    socks = []
    try:
        for _ in range(200):
            socks.append(http.connect(srv.host, srv.port))
        _assert_responsive(srv, "with 200 idle connections")
    finally:
        for s in socks:
            s.close()


def test_slowloris_headers_do_not_block(srv):
    """Clients dribbling their headers one byte at a time must not block others."""
    stop = threading.Event()
    results = []

    def dribble(idx):
        raw = (f"GET /health HTTP/1.1\r\nHost: x\r\nX-User-ID: slow{idx}\r\n"
               f"X-Padding: {'p' * 40}\r\n\r\n").encode()
        try:
            sock = http.connect(srv.host, srv.port, timeout=15)
        except OSError as e:
            results.append(("connect", e))
            return
        try:
            i = 0
            while i < len(raw):
                if stop.is_set():
                    sock.sendall(raw[i:])
                    break
                sock.sendall(raw[i:i + 1])
                i += 1
                time.sleep(0.03)
            r = http.ResponseReader(sock).read()
            results.append(("done", r.status if r else None))
        except (OSError, EOFError, ValueError) as e:
            results.append(("error", e))
        finally:
            sock.close()

    threads = [threading.Thread(target=dribble, args=(i,), daemon=True) for i in range(8)]
    for t in threads:
        t.start()
    try:
        time.sleep(0.3)
        _assert_responsive(srv, "while 8 clients dribble headers", n=10)
    finally:
        stop.set()
        for t in threads:
            t.join(20)
    # The slow clients themselves get an answer (200) or are cut off by a header timeout.
    for kind, value in results:
        check(kind != "done" or value in (200, 408, None),
              f"slow client got {value}")


def test_slow_body_does_not_block(srv):
    """A client sending its body very slowly must not block other clients."""
    sock = http.connect(srv.host, srv.port, timeout=15)
    body = b'{"name":"slow body"}'
    try:
        sock.sendall((f"POST /agent/ HTTP/1.1\r\nHost: x\r\nX-User-ID: slowbody\r\n"
                      f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                      ).encode())
        for i in range(len(body) - 1):
            sock.sendall(body[i:i + 1])
            if i % 5 == 0:
                _assert_responsive(srv, "during a slow body", n=1)
            time.sleep(0.05)
        sock.sendall(body[-1:])
        r = http.ResponseReader(sock).read()
        check(r is not None, "slow body got no response")
        expect_status(r, [201, 408], "slow body")
    finally:
        sock.close()


def test_slow_reader_does_not_block(srv):
    """A client that requests a lot and never reads must not block others."""
    req = b"GET /openapi.json HTTP/1.1\r\nHost: x\r\n\r\n"
    sock = http.connect(srv.host, srv.port, timeout=15)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        try:
            sock.settimeout(2)
            for _ in range(200):
                sock.sendall(req)
        except OSError:
            pass  # the server stopped reading: fine
        _assert_responsive(srv, "while a client does not read its responses")
    finally:
        sock.close()


def test_many_parallel_requests(srv):
    """100 requests from 20 threads: all 200, none slow."""
    errors = []
    lock = threading.Lock()

    def worker(i):
        for j in range(5):
            try:
                r, took = _timed_health(srv, user=f"p{i}")
                if r.status != 200 or took > 5:
                    with lock:
                        errors.append(f"{r.status} in {took:.2f}s")
            except OSError as e:
                with lock:
                    errors.append(repr(e))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    check(not errors, f"{len(errors)} bad responses, e.g. {errors[:3]}")
