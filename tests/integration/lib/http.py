"""Minimal HTTP/1.1 client helpers (standard library only)."""

import http.client
import json as _json
import select
import socket
import time


class Response:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers  # list of (name, value) in wire order
        self.body = body  # bytes

    def header(self, name, default=None):
        lname = name.lower()
        for k, v in self.headers:
            if k.lower() == lname:
                return v
        return default

    def header_all(self, name):
        lname = name.lower()
        return [v for k, v in self.headers if k.lower() == lname]

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        try:
            return _json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            raise AssertionError(
                f"response body is not JSON ({e}): {self.body[:200]!r}") from None

    def describe(self, limit=300):
        body = self.body[:limit].decode("utf-8", "replace")
        more = "..." if len(self.body) > limit else ""
        return f"HTTP {self.status} {body}{more}"


def request(host, port, method, path, body=None, headers=None, timeout=10.0):
    """Send one request on a fresh connection and return a Response.

    ``body`` is bytes or None; ``headers`` a dict or a list of pairs (a value
    of None removes nothing: omit the header instead).
    """
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        pairs = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
        conn.putrequest(method, path, skip_accept_encoding=True)
        for k, v in pairs:
            conn.putheader(k, v)
        if body is not None or method in ("POST", "PUT", "PATCH"):
            if not any(k.lower() in ("content-length", "transfer-encoding") for k, _ in pairs):
                conn.putheader("Content-Length", str(len(body or b"")))
        conn.endheaders(body)
        resp = conn.getresponse()
        data = resp.read()
        return Response(resp.status, resp.reason, resp.getheaders(), data)
    finally:
        conn.close()


def connect(host, port, timeout=10.0):
    sock = socket.create_connection((host, port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


class ResponseReader:
    """Reads successive HTTP/1.1 responses from one socket (pipelining)."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.closed = False

    def _fill(self):
        if self.closed:
            return False
        try:
            chunk = self.sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            self.closed = True
            return False
        self.buf += chunk
        return True

    def _read_line(self):
        while b"\r\n" not in self.buf:
            if not self._fill():
                raise EOFError("connection closed while reading a line")
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _read_exact(self, n):
        while len(self.buf) < n:
            if not self._fill():
                raise EOFError(f"connection closed with {len(self.buf)}/{n} body bytes")
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read(self, head=False):
        """Return the next Response, or None if the peer closed cleanly first."""
        while not self.buf:
            if not self._fill():
                return None
        status_line = self._read_line().decode("latin-1")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/"):
            raise ValueError(f"bad status line {status_line!r}")
        status = int(parts[1])
        reason = parts[2] if len(parts) > 2 else ""
        headers = []
        while True:
            line = self._read_line().decode("latin-1")
            if not line:
                break
            name, _, value = line.partition(":")
            headers.append((name.strip(), value.strip()))
        resp = Response(status, reason, headers, b"")
        if head or status in (204, 304) or 100 <= status < 200:
            return resp
        te = (resp.header("transfer-encoding") or "").lower()
        cl = resp.header("content-length")
        if "chunked" in te:
            body = b""
            while True:
                size = int(self._read_line().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self._read_line():
                        pass
                    break
                body += self._read_exact(size)
                self._read_line()
            resp.body = body
        elif cl is not None:
            resp.body = self._read_exact(int(cl))
        else:
            while self._fill():
                pass
            resp.body, self.buf = self.buf, b""
        return resp


def raw_exchange(host, port, data, timeout=10.0, responses=1):
    """Send raw bytes, return (list of Responses, closed_by_peer, error)."""
    sock = connect(host, port, timeout)
    out = []
    err = None
    try:
        try:
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError) as e:
            err = e
        reader = ResponseReader(sock)
        for _ in range(responses):
            try:
                resp = reader.read()
            except (EOFError, ValueError, socket.timeout, ConnectionResetError) as e:
                err = err or e
                break
            if resp is None:
                break
            out.append(resp)
        closed = reader.closed
        return out, closed, err
    finally:
        sock.close()


def send_large_body(host, port, head, body_size, chunk=65536, timeout=20.0,
                    chunked=False):
    """Stream a large body after ``head`` and stop as soon as the server answers.

    Returns (Response or None, bytes_sent, error).
    """
    sock = connect(host, port, timeout)
    reader = ResponseReader(sock)
    sent = 0
    err = None
    deadline = time.monotonic() + timeout
    try:
        sock.sendall(head)
        block = b"a" * chunk
        while sent < body_size and time.monotonic() < deadline:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            n = min(chunk, body_size - sent)
            piece = block[:n]
            if chunked:
                piece = f"{n:x}\r\n".encode() + piece + b"\r\n"
            try:
                sock.sendall(piece)
            except (BrokenPipeError, ConnectionResetError) as e:
                err = e
                break
            sent += n
        if chunked and sent >= body_size and err is None:
            try:
                sock.sendall(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError) as e:
                err = e
        try:
            resp = reader.read()
        except (EOFError, ValueError, socket.timeout, ConnectionResetError) as e:
            return None, sent, err or e
        return resp, sent, err
    finally:
        sock.close()
