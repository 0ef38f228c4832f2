"""Loading and executing transcript case files (cases/*.json).

See tests/integration/README.md for the format.
"""

import base64
import hashlib
import json
import os
import re
import time
import urllib.parse

from . import match as m

FIXTURES_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                            "fixtures")

DEFAULT_USER = "alice"
_VAR_RE = re.compile(r"\$\{([^${}]*)\}")
_WHOLE_VAR_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_PROTECT = "\ue000"  # stands for "$" inside substituted values


class CaseError(Exception):
    """A malformed case file (reported as a failure of the whole file)."""


class StepFailure(Exception):
    pass


def mask_secret(secret):
    """Agentd's masking rule (spec/models.md 1.6)."""
    bullets = "\u2022" * 8
    if len(secret) > 8:
        return secret[:4] + bullets + secret[-4:]
    return bullets


def _call(name, arg):
    arg = arg.replace(_PROTECT, "$")
    if name == "blake2b8":
        return hashlib.blake2b(arg.encode("utf-8"), digest_size=8).hexdigest()
    if name == "mask":
        return mask_secret(arg)
    if name == "repeat":
        count, _, text = arg.partition(":")
        return text * int(count)
    if name == "urlquote":
        return urllib.parse.quote(arg, safe="")
    raise StepFailure(f"unknown function ${{{name}:...}}")


def substitute(value, variables):
    """Replace ${var} and ${fn:arg} in strings, recursively (keys included).

    A string that is exactly "${var}" takes the variable's value with its JSON
    type (so captured numbers or objects can be reused as such).
    """
    if isinstance(value, str):
        whole = _WHOLE_VAR_RE.fullmatch(value)
        if whole and whole.group(1) in variables:
            return variables[whole.group(1)]
        text = value
        for _ in range(20):
            found = _VAR_RE.search(text)
            if not found:
                break

            def repl(mo):
                inner = mo.group(1)
                if ":" in inner:
                    fn, _, arg = inner.partition(":")
                    return str(_call(fn, arg)).replace("$", _PROTECT)
                if inner not in variables:
                    raise StepFailure(f"undefined variable ${{{inner}}} "
                                      "(did an earlier capture fail?)")
                v = variables[inner]
                v = v if isinstance(v, str) else json.dumps(v)
                return v.replace("$", _PROTECT)  # inserted text is never re-expanded

            text = _VAR_RE.sub(repl, text)
        return text.replace(_PROTECT, "$")
    if isinstance(value, list):
        return [substitute(v, variables) for v in value]
    if isinstance(value, dict):
        return {substitute(k, variables): substitute(v, variables) for k, v in value.items()}
    return value


def _resolve_fixtures(value):
    if isinstance(value, dict):
        if len(value) == 1 and "$fixture" in value:
            ref = value["$fixture"]
            fname, _, pointer = ref.partition("#")
            path = os.path.join(FIXTURES_DIR, fname)
            try:
                with open(path, encoding="utf-8") as f:
                    data = json.load(f)
            except (OSError, ValueError) as e:
                raise CaseError(f"fixture {ref}: {e}") from None
            for part in [p for p in pointer.split(".") if p]:
                try:
                    data = data[int(part)] if isinstance(data, list) else data[part]
                except (KeyError, IndexError, ValueError):
                    raise CaseError(f"fixture {ref}: no element {part!r}") from None
            return data
        return {k: _resolve_fixtures(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_fixtures(v) for v in value]
    return value


_STEP_KEYS = {"name", "doc", "request", "expect", "capture", "sleep_before"}
_REQUEST_KEYS = {"method", "path", "headers", "json", "raw_body", "raw_body_b64",
                 "no_default_user", "no_content_type", "timeout"}
_EXPECT_KEYS = {"status", "json", "json_subset", "headers", "body_absent", "body_contains",
                "body_regex"}


def load_case_file(path):
    """Return (description, variables, steps) for one case file."""
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        raise CaseError(f"cannot load {path}: {e}") from None
    description, variables = "", {}
    if isinstance(doc, dict):
        description = doc.get("description", "")
        variables = dict(doc.get("vars", {}))
        steps = doc.get("steps")
    else:
        steps = doc
    if not isinstance(steps, list):
        raise CaseError(f"{path}: expected a list of steps")
    seen = {}
    out = []
    for i, step in enumerate(steps):
        if not isinstance(step, dict) or "name" not in step or "request" not in step:
            raise CaseError(f"{path}: step #{i} needs 'name' and 'request'")
        unknown = set(step) - _STEP_KEYS
        unknown |= set(step["request"]) - _REQUEST_KEYS
        unknown |= set(step.get("expect", {})) - _EXPECT_KEYS
        if unknown:
            raise CaseError(f"{path}: step {step['name']!r} has unknown keys {sorted(unknown)}")
        name = step["name"]
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            name = f"{name}#{seen[name]}"
        step = dict(step, name=name)
        step["expect"] = _resolve_fixtures(step.get("expect", {}))
        out.append(step)
    return description, variables, out


def build_request(step, variables):
    req = substitute(step["request"], variables)
    method = req.get("method", "GET")
    path = req["path"]
    headers = {}
    if not req.get("no_default_user"):
        headers["X-User-ID"] = DEFAULT_USER
    body = None
    if "json" in req:
        body = json.dumps(req["json"], ensure_ascii=False).encode("utf-8")
    elif "raw_body" in req:
        body = req["raw_body"].encode("utf-8", "surrogatepass")
    elif "raw_body_b64" in req:
        body = base64.b64decode(req["raw_body_b64"])
    if body is not None and not req.get("no_content_type"):
        headers["Content-Type"] = "application/json"
    for k, v in (req.get("headers") or {}).items():
        for existing in [e for e in headers if e.lower() == k.lower()]:
            del headers[existing]
        if v is not None:
            headers[k] = v
    return method, path, headers, body, float(req.get("timeout", 10.0))


def lookup(resp, path):
    """Resolve 'json.a.0.b', 'headers.Name', 'status' or 'body' on a response."""
    head, _, rest = path.partition(".")
    if head == "status":
        return resp.status
    if head == "body":
        return resp.text
    if head == "headers":
        value = resp.header(rest)
        if value is None:
            raise StepFailure(f"capture {path}: header absent")
        return value
    if head != "json":
        raise StepFailure(f"capture path must start with json., headers., status or body: {path}")
    try:
        data = resp.json()
    except AssertionError as e:
        raise StepFailure(f"capture {path}: {e}") from None
    for part in [p for p in rest.split(".") if p]:
        try:
            if isinstance(data, list):
                data = data[int(part)]
            else:
                data = data[part]
        except (KeyError, IndexError, ValueError, TypeError):
            raise StepFailure(f"capture {path}: no element {part!r} in "
                              f"{m._short(data)}") from None
    return data


def check_response(resp, expect, variables):
    exp = substitute(expect, variables)
    if "status" in exp:
        want = exp["status"]
        ok = resp.status in want if isinstance(want, list) else resp.status == want
        if not ok:
            raise StepFailure(f"expected status {want}, got {resp.describe()}")
    for name, want in (exp.get("headers") or {}).items():
        got = resp.header(name)
        if want == m.ABSENT:
            if got is not None:
                raise StepFailure(f"header {name}: expected absent, got {got!r}")
            continue
        if got is None:
            raise StepFailure(f"header {name}: missing (have {[k for k, _ in resp.headers]})")
        try:
            m.match(want, got, path=f"header {name}")
        except m.Mismatch as e:
            raise StepFailure(str(e)) from None
    if exp.get("body_absent") and resp.body:
        raise StepFailure(f"expected an empty body, got {resp.body[:200]!r}")
    if "body_contains" in exp and exp["body_contains"] not in resp.text:
        raise StepFailure(f"body does not contain {exp['body_contains']!r}: {resp.text[:200]!r}")
    if "body_regex" in exp and not re.search(exp["body_regex"], resp.text, re.S):
        raise StepFailure(f"body does not match /{exp['body_regex']}/: {resp.text[:200]!r}")
    for key, subset in (("json", False), ("json_subset", True)):
        if key in exp:
            try:
                actual = resp.json()
            except AssertionError as e:
                raise StepFailure(str(e)) from None
            try:
                m.match(exp[key], actual, subset=subset)
            except m.Mismatch as e:
                raise StepFailure(f"{e} [status {resp.status}]") from None


def run_step(srv, step, variables):
    if step.get("sleep_before"):
        time.sleep(float(step["sleep_before"]))
    method, path, headers, body, timeout = build_request(step, variables)
    from . import http

    try:
        resp = http.request(srv.host, srv.port, method, path, body=body, headers=headers,
                            timeout=timeout)
    except Exception as e:  # noqa: BLE001 - any transport error fails the step
        raise StepFailure(f"{method} {path}: request failed: {type(e).__name__}: {e}") from None
    failure = None
    try:
        check_response(resp, step.get("expect", {}), variables)
    except StepFailure as e:
        failure = e
    # Capture even when the expectation failed, so one wrong detail does not
    # cascade into every later step that needs the id.
    for var, where in (step.get("capture") or {}).items():
        try:
            variables[var] = lookup(resp, where)
        except StepFailure:
            if failure is None:
                raise
    if failure is not None:
        raise failure
    return resp
