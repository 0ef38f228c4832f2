"""Request limits and malformed HTTP: body size, header size, URL length, broken framing.

After every test the runner checks that GET /health still answers 200.
"""

import json
import socket
import time

from lib import http
from lib.checks import check, create_agent, expect_json, expect_status, list_agents

MiB = 1024 * 1024


def _head(srv, method, path, length=None, extra="", chunked=False, user="alice"):
    lines = [f"{method} {path} HTTP/1.1", f"Host: {srv.host}:{srv.port}",
             "Content-Type: application/json"]
    if user is not None:
        lines.append(f"X-User-ID: {user}")
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    elif length is not None:
        lines.append(f"Content-Length: {length}")
    if extra:
        lines.append(extra)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def test_body_over_10mib_is_413(srv):
    """An announced 11 MiB body is refused with 413 (ARCHITECTURE 8: body limit)."""
    size = 11 * MiB
    resp, sent, err = http.send_large_body(srv.host, srv.port,
                                           _head(srv, "POST", "/agent/", size), size)
    check(resp is not None, f"no response to an 11 MiB body (sent {sent} bytes, error {err!r})")
    expect_status(resp, 413, "11 MiB body")


def test_a_client_that_keeps_uploading_reads_the_413_with_its_cors_headers(srv):
    """A browser sends its whole body before it reads the answer. The 413 must
    reach it, with the CORS headers a route's answer has: a reset connection, or
    an answer without Access-Control-Allow-Origin, shows as an unreachable server."""
    size = 11 * MiB
    sock = http.connect(srv.host, srv.port, 20.0)
    try:
        sock.sendall(_head(srv, "POST", "/chat/", size, extra="Origin: http://localhost:5173"))
        block = b"a" * 65536
        sent = 0
        try:
            while sent < size:
                sock.sendall(block[:min(len(block), size - sent)])
                sent += min(len(block), size - sent)
        except (BrokenPipeError, ConnectionResetError) as e:
            raise AssertionError(f"the upload was cut off after {sent} of {size} bytes: {e!r}")
        resp = http.ResponseReader(sock).read()
    finally:
        sock.close()
    expect_status(resp, 413, "11 MiB body sent whole")
    check(resp.header("access-control-allow-origin") == "*",
          f"the 413 has no CORS header: {resp.headers}")
    check(resp.header("connection") == "close", f"the 413 keeps the connection: {resp.headers}")


def test_chunked_body_over_10mib_is_413(srv):
    size = 11 * MiB
    resp, sent, err = http.send_large_body(srv.host, srv.port,
                                           _head(srv, "POST", "/agent/", chunked=True), size,
                                           chunked=True)
    check(resp is not None, f"no response to an 11 MiB chunked body (sent {sent}, error {err!r})")
    expect_status(resp, 413, "11 MiB chunked body")


def test_413_before_auth_and_route_checks(srv):
    """Size is enforced whatever the route: also on PATCH and on session creation."""
    size = 11 * MiB
    for method, path in (("PATCH", "/agent/whatever"), ("POST", "/sessions/"),
                         ("POST", "/credential/")):
        resp, sent, err = http.send_large_body(srv.host, srv.port,
                                               _head(srv, method, path, size), size)
        check(resp is not None, f"{method} {path}: no response (sent {sent}, error {err!r})")
        expect_status(resp, 413, f"{method} {path} with 11 MiB")


def test_5mib_body_is_accepted(srv):
    """A body well under the limit goes through (unknown keys are ignored)."""
    body = json.dumps({"name": "big-body", "junk": "x" * (5 * MiB)}).encode()
    r = srv.request("POST", "/agent/", body=body, timeout=30, user="big")
    expect_status(r, 201, "5 MiB body")
    agents = list_agents(srv, user="big")["agents"]
    check(any(a["data"]["name"] == "big-body" for a in agents), "agent from 5 MiB body not listed")


def test_large_header_is_431(srv):
    """A 100 KB header is refused with 431 Request Header Fields Too Large."""
    data = _head(srv, "GET", "/health", extra="X-Big: " + "a" * 100_000)
    responses, closed, err = http.raw_exchange(srv.host, srv.port, data)
    check(responses, f"no response to a 100 KB header (closed={closed}, error={err!r})")
    expect_status(responses[0], 431, "100 KB header")


def test_many_headers_refused_or_served(srv):
    """2000 small headers (about 40 KB) must not crash or hang the server."""
    extra = "\r\n".join(f"X-H{i}: v{i}" for i in range(2000))
    responses, closed, err = http.raw_exchange(srv.host, srv.port,
                                               _head(srv, "GET", "/health", extra=extra))
    check(responses or closed, f"no response and connection left open (error={err!r})")
    if responses:
        expect_status(responses[0], [200, 400, 431], "2000 headers")


def test_huge_user_id_header(srv):
    """A 100 KB X-User-ID is refused (431), never stored."""
    data = _head(srv, "GET", "/agent/", user="u" * 100_000)
    responses, closed, err = http.raw_exchange(srv.host, srv.port, data)
    check(responses, f"no response (closed={closed}, error={err!r})")
    expect_status(responses[0], 431, "100 KB X-User-ID")


def test_long_url(srv):
    """A 100 KB request target: 414 or 431 (or 404 if accepted), never a crash."""
    path = "/agent/" + "a" * 100_000
    responses, closed, err = http.raw_exchange(srv.host, srv.port, _head(srv, "GET", path))
    check(responses or closed, f"no response to a 100 KB URL (error={err!r})")
    if responses:
        expect_status(responses[0], [400, 404, 405, 414, 431], "100 KB URL")


def test_garbage_request_line(srv):
    """Unparseable requests get a 4xx (or a closed connection), never a 500 or a hang."""
    for raw in (b"HELLO\r\n\r\n", b"GET\r\n\r\n", b"\x00\x01\x02\x03\r\n\r\n",
                b"GET /health HTTP/1.1\r\nNo colon header\r\n\r\n",
                b"GET /health HTTP/1.1\r\nHost: x\r\n\x00bad: y\r\n\r\n",
                b"GET /health HTTP/1.1\r\nHost: x\r\nX-User-ID: a\rb\r\n\r\n",
                b"GET /he alth HTTP/1.1\r\nHost: x\r\n\r\n"):
        responses, closed, err = http.raw_exchange(srv.host, srv.port, raw, timeout=5)
        check(responses or closed, f"{raw!r}: no response and the connection stayed open")
        if responses:
            check(400 <= responses[0].status < 500,
                  f"{raw!r}: expected a 4xx, got {responses[0].describe()}")


def test_unsupported_http_version(srv):
    raw = b"GET /health HTTP/9.9\r\nHost: x\r\nX-User-ID: alice\r\n\r\n"
    responses, closed, err = http.raw_exchange(srv.host, srv.port, raw, timeout=5)
    check(responses or closed, "no response and the connection stayed open")
    if responses:
        check(responses[0].status != 500, f"got {responses[0].describe()}")


def test_bad_content_length(srv):
    for cl in ("abc", "-1", "1.5", "99999999999999999999999", "5, 6"):
        raw = (_head(srv, "POST", "/agent/", extra=f"Content-Length: {cl}", user="badlen")
               + b'{"name":"x"}')
        responses, closed, err = http.raw_exchange(srv.host, srv.port, raw, timeout=5)
        check(responses or closed, f"Content-Length {cl!r}: no response, connection open")
        if responses:
            check(responses[0].status in (400, 413, 422),
                  f"Content-Length {cl!r}: expected 400/413, got {responses[0].describe()}")
    check(not list_agents(srv, user="badlen")["agents"],
          "a request with an invalid Content-Length created an agent")


def test_conflicting_length_and_chunked(srv):
    """Content-Length plus Transfer-Encoding (smuggling vector): 400, or chunked wins.

    Either way the connection must not be reused for a smuggled request.
    """
    smuggled = (b"GET /agent/ HTTP/1.1\r\nHost: x\r\nX-User-ID: smuggler\r\n\r\n")
    body = b"0\r\n\r\n" + smuggled
    raw = (_head(srv, "POST", "/agent/", extra=f"Content-Length: {len(body)}", chunked=True)
           + body)
    responses, closed, err = http.raw_exchange(srv.host, srv.port, raw, timeout=5, responses=2)
    check(responses or closed, "no response and connection open")
    if responses:
        check(responses[0].status in (400, 422), f"expected 400 (or 422 for the empty chunked "
              f"body), got {responses[0].describe()}")


def test_truncated_body_then_disconnect(srv):
    """The client announces 1000 bytes, sends 10 and vanishes; nothing is stored."""
    sock = http.connect(srv.host, srv.port)
    sock.sendall(_head(srv, "POST", "/agent/", 1000, user="trunc") + b'{"name":"t')
    time.sleep(0.2)
    sock.close()
    time.sleep(0.2)
    check(not list_agents(srv, user="trunc")["agents"], "a truncated body created an agent")


def test_connection_reset_mid_request(srv):
    sock = http.connect(srv.host, srv.port)
    sock.sendall(_head(srv, "POST", "/agent/", 50_000) + b"{" * 1000)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    sock.close()  # RST
    time.sleep(0.2)


def test_deeply_nested_json(srv):
    """100k nested arrays must not overflow the parser's stack (4xx or accepted)."""
    body = b'{"name":"deep","junk":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    r = srv.request("POST", "/agent/", body=body, timeout=30)
    check(r.status in (201, 400, 413, 422), f"deep nesting: got {r.describe()}")


def test_deeply_nested_objects_in_known_field(srv):
    body = b'{"name":"deep2","context_config":' + b'{"a":' * 50_000 + b"1" + b"}" * 50_000 + b"}"
    r = srv.request("POST", "/agent/", body=body, timeout=30)
    check(r.status in (201, 400, 413, 422), f"deep nesting: got {r.describe()}")


def test_big_numbers(srv):
    """Huge or non-finite numbers: 201 with a sane value or 422, never 500 or a crash."""
    for raw in (b'{"name":"n1","react_config":{"max_iters":123456789012345678901234567890}}',
                b'{"name":"n2","react_config":{"max_iters":1e400}}',
                b'{"name":"n3","context_config":{"trigger_ratio":1e-400}}',
                b'{"name":"n4","react_config":{"max_iters":-9223372036854775809}}',
                b'{"name":"n5","context_config":{"tool_result_limit":9223372036854775807}}'):
        r = srv.request("POST", "/agent/", body=raw)
        check(r.status in (201, 422), f"{raw!r}: got {r.describe()}")
    list_agents(srv)  # the list must still serialise


def test_nan_and_infinity_literals(srv):
    """Python's json accepts NaN/Infinity; either way no 500 and the list stays valid JSON."""
    for raw in (b'{"name":"nan","context_config":{"trigger_ratio":NaN}}',
                b'{"name":"inf","react_config":{"max_iters":Infinity}}'):
        r = srv.request("POST", "/agent/", body=raw)
        check(r.status in (201, 422), f"{raw!r}: got {r.describe()}")
    list_agents(srv)


def test_invalid_utf8_body(srv):
    """Invalid UTF-8: the reference answers 400 'There was an error parsing the body'."""
    for raw in (b'{"name":"\xff\xfe"}', b'{"name":"\xc3"}', b'\xff{"name":"x"}',
                b'{"name":"\xed\xa0\x80"}'):
        r = srv.request("POST", "/agent/", body=raw, user="utf8")
        check(r.status in (400, 422), f"{raw!r}: expected 400/422, got {r.describe()}")
        r.json()
    check(not list_agents(srv, user="utf8")["agents"], "invalid UTF-8 created an agent")


def test_lone_surrogate_escape(srv):
    """A JSON escape of a lone surrogate cannot be UTF-8 encoded: 422, or stored and
    returned as valid JSON (never a 500 or a broken list)."""
    r = srv.request("POST", "/agent/", body=b'{"name":"lone \\ud800 surrogate"}', user="lone")
    check(r.status in (201, 422), f"got {r.describe()}")
    r2 = srv.get("/agent/", user="lone")
    expect_status(r2, 200, "list after lone surrogate")
    r2.json()


def test_unknown_method(srv):
    for method in ("BREW", "TRACE", "CONNECT", "PROPFIND"):
        raw = f"{method} /health HTTP/1.1\r\nHost: x\r\nX-User-ID: alice\r\n\r\n".encode()
        responses, closed, err = http.raw_exchange(srv.host, srv.port, raw, timeout=5)
        check(responses or closed, f"{method}: no response and connection open")
        if responses:
            check(responses[0].status in (400, 405, 501),
                  f"{method}: expected 405 (or 400/501), got {responses[0].describe()}")


def test_head_request_has_no_body(srv):
    """HEAD must never carry a body (whatever the status), or the stream desyncs."""
    raw = (f"HEAD /health HTTP/1.1\r\nHost: x\r\nX-User-ID: alice\r\n\r\n"
           f"GET /health HTTP/1.1\r\nHost: x\r\nX-User-ID: alice\r\n\r\n").encode()
    sock = http.connect(srv.host, srv.port, timeout=5)
    try:
        sock.sendall(raw)
        reader = http.ResponseReader(sock)
        first = reader.read(head=True)
        check(first is not None, "no response to HEAD")
        second = reader.read()
        check(second is not None and second.status == 200,
              f"request after HEAD desynchronised: {second.describe() if second else None}")
        expect_json(second, {"status": "ok"}, subset=True)
    finally:
        sock.close()


def test_names_survive_roundtrip_after_limits(srv):
    """Sanity: ordinary traffic still works after the abuse above."""
    aid = create_agent(srv, "after-limits")
    check(any(a["id"] == aid for a in list_agents(srv)["agents"]), "new agent not listed")
