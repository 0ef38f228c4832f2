"""How a request is read, where HTTP leaves room: the reference's answers
(FastAPI over Starlette), checked over a real socket.

- A header sent twice keeps its first value (Starlette's `headers.get`), a query
  parameter sent twice its last (`QueryParams`).
- A body is JSON when it comes without a Content-Type or with `application/json`
  or `application/<x>+json`. Any other body is validated as raw text, which no
  model accepts: 422 `model_attributes_type`, nothing stored.
- The body is decoded before anything else is read: malformed JSON is the only
  error reported, even without an `X-User-ID`.
"""

import json

from lib import http
from lib.checks import check, create_agent, create_session, expect_json, expect_status, list_agents

NOT_A_DICT = "Input should be a valid dictionary or object to extract fields from"


def test_repeated_user_header_keeps_the_first(srv):
    create_agent(srv, "mine", user="dup-first")
    raw = (b"GET /agent/ HTTP/1.1\r\nHost: x\r\nX-User-ID: dup-first\r\nX-User-ID: dup-second\r\n"
           b"Connection: close\r\n\r\n")
    responses, _, err = http.raw_exchange(srv.host, srv.port, raw)
    check(len(responses) == 1, f"no answer ({err!r})")
    expect_status(responses[0], 200, "two X-User-ID headers")
    names = [a["data"]["name"] for a in json.loads(responses[0].body)["agents"]]
    check(names == ["mine"], f"two X-User-ID headers read as another user: {names}")


def test_repeated_query_parameter_keeps_the_last(srv):
    agent = create_agent(srv, "q", user="dup-query")
    session = create_session(srv, agent, user="dup-query")
    base = f"/sessions/{session}/messages?agent_id={agent}"
    r = srv.get(base + "&limit=5&limit=500", user="dup-query")
    expect_status(r, 422, "the last limit is out of range")
    check(r.json()["detail"][0]["type"] == "less_than_equal", f"{r.body[:300]}")
    expect_status(srv.get(base + "&limit=500&limit=5", user="dup-query"), 200, "the last limit is valid")


def test_json_content_types(srv):
    for ctype in ("application/json", "APPLICATION/JSON; charset=utf-8", "application/vnd.api+json",
                  "application/merge-patch+json", ""):
        r = srv.post("/agent/", body=b'{"name":"typed"}', content_type=None,
                     headers={"Content-Type": ctype}, user="ctype-json")
        expect_status(r, 201, f"Content-Type {ctype!r}")
    r = srv.post("/agent/", body=b'{"name":"untyped"}', content_type=None, user="ctype-json")
    expect_status(r, 201, "no Content-Type")
    check(list_agents(srv, user="ctype-json")["total"] == 6, "every JSON body stored")


def test_other_content_types_are_validated_as_text(srv):
    for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                  "application/jsonp", "json", "application/xml"):
        r = srv.post("/agent/", body=b'{"name":"as text"}', content_type=None,
                     headers={"Content-Type": ctype}, user="ctype-text")
        expect_status(r, 422, f"Content-Type {ctype!r}")
        expect_json(r, {"detail": [{"type": "model_attributes_type", "loc": ["body"], "msg": NOT_A_DICT,
                                    "input": '{"name":"as text"}'}]}, what=ctype)
    # Every body route reads it so; a missing identity is reported beside it.
    r = srv.post("/chat/", body=b'{"agent_id":"a","session_id":"s","input":null}', content_type=None,
                 headers={"Content-Type": "text/plain"}, user=None)
    expect_status(r, 422, "chat body as text")
    check([i["type"] for i in r.json()["detail"]] == ["missing", "model_attributes_type"], f"{r.body[:400]}")
    # An empty body is missing, whatever its type; bytes that are not UTF-8 come back readable.
    r = srv.post("/agent/", body=b"", content_type=None, headers={"Content-Type": "text/plain"},
                 user="ctype-text")
    expect_json(r, {"detail": [{"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}]})
    r = srv.post("/sessions/", body=b"\xff\xfeok", content_type=None, headers={"Content-Type": "text/plain"},
                 user="ctype-text")
    expect_status(r, 422, "non-UTF-8 text body")
    check(r.json()["detail"][0]["input"] == "\ufffd\ufffdok", f"{r.body[:200]}")
    check(list_agents(srv, user="ctype-text")["total"] == 0, "a refused body stored something")


def test_malformed_body_is_reported_before_identity(srv):
    for user in (None, ""):
        r = srv.post("/agent/", body=b'{"name":', user=user)
        expect_status(r, 422, f"malformed body, X-User-ID {user!r}")
        detail = r.json()["detail"]
        check([i["type"] for i in detail] == ["json_invalid"], f"X-User-ID {user!r}: {detail}")
        check(detail[0]["loc"] == ["body", 8], f"{detail}")
    # A well-formed body leaves the identity checks as they are.
    expect_status(srv.post("/agent/", json={"name": "x"}, user=""), 401, "empty X-User-ID")
    r = srv.post("/agent/", json={"name": 5}, user=None)
    check([i["type"] for i in r.json()["detail"]] == ["missing", "string_type"], f"{r.body[:300]}")
