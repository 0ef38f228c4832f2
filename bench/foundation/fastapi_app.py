"""The Python-stack floor: FastAPI + uvicorn returning agentd's captured bytes.

Run with Debian's interpreter (python3-fastapi, python3-uvicorn):
  BENCH_BODY_DIR=DIR /usr/bin/python3 -m uvicorn fastapi_app:app ...
DIR holds health.json and sessions.json, the exact bodies agentd returned.
The handlers do no work at all (no header dependency, no storage, no JSON
encoding), so this is an upper bound for any FastAPI implementation of the
same routes, not a model of the reference service.
"""
import asyncio.base_events
import os
import socket

from fastapi import FastAPI
from fastapi.responses import Response


def _set_nodelay(sock: socket.socket) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


# With --workers N, uvicorn 0.17 binds the listening socket itself as
# socket.socket(family) (proto 0), and asyncio sets TCP_NODELAY only on sockets
# whose proto is IPPROTO_TCP: every small response then waits ~40 ms for a
# delayed ACK. Each worker imports this module before it accepts, so setting
# TCP_NODELAY on every TCP socket here lets the multi-worker run measure the
# stack rather than that bug. One worker (host/port bound by asyncio) is unaffected.
asyncio.base_events._set_nodelay = _set_nodelay

_DIR = os.environ["BENCH_BODY_DIR"]
with open(os.path.join(_DIR, "health.json"), "rb") as f:
    _HEALTH = f.read()
with open(os.path.join(_DIR, "sessions.json"), "rb") as f:
    _SESSIONS = f.read()

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


@app.get("/health")
async def health() -> Response:
    return Response(content=_HEALTH, media_type="application/json")


@app.get("/sessions/")
async def list_sessions() -> Response:
    return Response(content=_SESSIONS, media_type="application/json")
