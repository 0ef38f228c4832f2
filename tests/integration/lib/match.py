"""Matching of actual JSON values against expected patterns.

Two modes:

* exact  -- objects must have the same key set, lists the same length;
* subset -- objects may carry extra keys; lists still need the same length
  (use the ``$contains`` / ``$prefix`` operators for partial lists).

Scalars compare with strict JSON types: ``true`` never equals ``1`` and the
integer ``1`` never equals the float ``1.0`` (the reference emits floats such
as ``25000.0`` and a client can tell them apart).

String matchers (usable anywhere a value is expected):

    "<any>"        anything, including null
    "<absent>"     (as an object value) the key must not be present
    "<str>"        any string          "<int>"     any integer (not bool)
    "<number>"     int or float        "<bool>"    true/false
    "<hex32>"      32 lowercase hex    "<hex16>"   16 lowercase hex
    "<timestamp>"  naive ISO 8601 YYYY-MM-DDTHH:MM:SS[.ffffff]
    "<re:PATTERN>" a string fully matching the Python regex PATTERN

Operators (an object whose single key starts with ``$``):

    {"$eq": X}            match X in exact mode, even inside a subset match
    {"$subset": X}        match X in subset mode, even inside an exact match
    {"$contains": [..]}   actual is a list; each item matches some element
    {"$not_contains": [..]} actual is a list; no element matches any item
    {"$unordered": [..]}  actual is a list of the same length, any order
    {"$prefix": [..]}     actual is a list starting with these items
    {"$len": N}           actual list / object / string has length N
    {"$min_len": N}       ... has at least N elements
    {"$any_of": [..]}     at least one alternative matches
    {"$not": X}           X does not match
    {"$all": [..]}        every pattern matches
"""

import re

_TIMESTAMP_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?")
_HEX32_RE = re.compile(r"[0-9a-f]{32}")
_HEX16_RE = re.compile(r"[0-9a-f]{16}")

ABSENT = "<absent>"

_SIMPLE = {
    "<any>": lambda v: True,
    "<str>": lambda v: isinstance(v, str),
    "<int>": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "<number>": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "<bool>": lambda v: isinstance(v, bool),
    "<hex32>": lambda v: isinstance(v, str) and bool(_HEX32_RE.fullmatch(v)),
    "<hex16>": lambda v: isinstance(v, str) and bool(_HEX16_RE.fullmatch(v)),
    "<timestamp>": lambda v: isinstance(v, str) and bool(_TIMESTAMP_RE.fullmatch(v)),
}

_OPERATORS = {
    "$eq", "$subset", "$contains", "$not_contains", "$unordered", "$prefix",
    "$len", "$min_len", "$any_of", "$not", "$all",
}


class Mismatch(Exception):
    """Raised with a human readable path and reason."""


def _short(value, limit=160):
    import json

    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text


def is_matcher_string(s):
    return isinstance(s, str) and (s in _SIMPLE or s == ABSENT or
                                   (s.startswith("<re:") and s.endswith(">")))


def _is_operator(expected):
    return (isinstance(expected, dict) and len(expected) == 1 and
            next(iter(expected)) in _OPERATORS)


def _same_scalar(expected, actual):
    if isinstance(expected, bool) or isinstance(actual, bool):
        return isinstance(expected, bool) and isinstance(actual, bool) and expected == actual
    if isinstance(expected, float) or isinstance(actual, float):
        return isinstance(expected, float) and isinstance(actual, float) and expected == actual
    return type(expected) is type(actual) and expected == actual


def match(expected, actual, subset=False, path="$"):
    """Raise Mismatch if ``actual`` does not match ``expected``."""
    if isinstance(expected, str) and is_matcher_string(expected):
        if expected == ABSENT:
            raise Mismatch(f"{path}: expected the key to be absent, got {_short(actual)}")
        if expected in _SIMPLE:
            if not _SIMPLE[expected](actual):
                raise Mismatch(f"{path}: expected {expected}, got {_short(actual)}")
            return
        pattern = expected[4:-1]
        if not isinstance(actual, str) or not re.fullmatch(pattern, actual, re.S):
            raise Mismatch(f"{path}: expected string matching /{pattern}/, got {_short(actual)}")
        return

    if _is_operator(expected):
        _match_operator(expected, actual, subset, path)
        return

    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            raise Mismatch(f"{path}: expected an object, got {_short(actual)}")
        for key, exp_value in expected.items():
            sub = f"{path}.{key}"
            if exp_value == ABSENT:
                if key in actual:
                    raise Mismatch(f"{sub}: expected absent, got {_short(actual[key])}")
                continue
            if key not in actual:
                raise Mismatch(f"{sub}: missing key (have {sorted(actual)[:20]})")
            match(exp_value, actual[key], subset, sub)
        if not subset:
            extra = [k for k in actual if k not in expected]
            if extra:
                raise Mismatch(f"{path}: unexpected keys {extra[:10]}")
        return

    if isinstance(expected, list):
        if not isinstance(actual, list):
            raise Mismatch(f"{path}: expected a list, got {_short(actual)}")
        if len(expected) != len(actual):
            raise Mismatch(f"{path}: expected {len(expected)} items, got {len(actual)}: "
                           f"{_short(actual)}")
        for i, (e, a) in enumerate(zip(expected, actual)):
            match(e, a, subset, f"{path}[{i}]")
        return

    if not _same_scalar(expected, actual):
        raise Mismatch(f"{path}: expected {_short(expected)}, got {_short(actual)}")


def matches(expected, actual, subset=False):
    try:
        match(expected, actual, subset)
        return True
    except Mismatch:
        return False


def _match_operator(expected, actual, subset, path):
    op, arg = next(iter(expected.items()))
    if op == "$eq":
        match(arg, actual, False, path)
    elif op == "$subset":
        match(arg, actual, True, path)
    elif op == "$any_of":
        reasons = []
        for alt in arg:
            try:
                match(alt, actual, subset, path)
                return
            except Mismatch as e:
                reasons.append(str(e))
        raise Mismatch(f"{path}: no alternative matched ({'; '.join(reasons)[:400]})")
    elif op == "$all":
        for item in arg:
            match(item, actual, subset, path)
    elif op == "$not":
        if matches(arg, actual, subset):
            raise Mismatch(f"{path}: expected not to match {_short(arg)}, got {_short(actual)}")
    elif op in ("$len", "$min_len"):
        if not isinstance(actual, (list, dict, str)):
            raise Mismatch(f"{path}: expected a list/object/string, got {_short(actual)}")
        if op == "$len" and len(actual) != arg:
            raise Mismatch(f"{path}: expected length {arg}, got {len(actual)}")
        if op == "$min_len" and len(actual) < arg:
            raise Mismatch(f"{path}: expected length >= {arg}, got {len(actual)}")
    else:
        if not isinstance(actual, list):
            raise Mismatch(f"{path}: expected a list, got {_short(actual)}")
        if op == "$contains":
            for item in arg:
                if not any(matches(item, a, subset) for a in actual):
                    raise Mismatch(f"{path}: no element matches {_short(item)}; "
                                   f"list is {_short(actual, 400)}")
        elif op == "$not_contains":
            for item in arg:
                for i, a in enumerate(actual):
                    if matches(item, a, subset):
                        raise Mismatch(f"{path}[{i}]: unexpectedly matches {_short(item)}")
        elif op == "$prefix":
            if len(actual) < len(arg):
                raise Mismatch(f"{path}: expected at least {len(arg)} items, got {len(actual)}")
            for i, e in enumerate(arg):
                match(e, actual[i], subset, f"{path}[{i}]")
        elif op == "$unordered":
            if len(arg) != len(actual):
                raise Mismatch(f"{path}: expected {len(arg)} items, got {len(actual)}: "
                               f"{_short(actual, 400)}")
            if not _perfect_matching(arg, actual, subset):
                raise Mismatch(f"{path}: items do not match in any order: expected "
                               f"{_short(arg, 300)}, got {_short(actual, 300)}")


def _perfect_matching(expected, actual, subset):
    """Bipartite matching (Kuhn) so that overlapping patterns cannot mislead."""
    n = len(expected)
    ok = [[matches(e, a, subset) for a in actual] for e in expected]
    owner = [-1] * n

    def try_assign(i, seen):
        for j in range(n):
            if ok[i][j] and not seen[j]:
                seen[j] = True
                if owner[j] < 0 or try_assign(owner[j], seen):
                    owner[j] = i
                    return True
        return False

    return all(try_assign(i, [False] * n) for i in range(n))
