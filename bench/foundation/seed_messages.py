"""Fill each benchmark session's conversation directly in agentd's SQLite file.

usage: seed_messages.py DB SESSIONS_FILE [--messages N] [--text-bytes B] [--agent-name NAME]

The server must be stopped. The message-append route does not exist yet, so
this writes rows in the table agentd keeps the log in:

  messages(session_id TEXT NOT NULL, seq INTEGER NOT NULL, msg_id TEXT NOT NULL,
           created_at TEXT NOT NULL, payload TEXT NOT NULL,
           PRIMARY KEY(session_id, seq))

payload is the compact JSON of a Msg with one ~B-byte text block. Messages
alternate user / assistant, seq counts from 1, created_at rises one second per
message, so that the last message is an assistant reply without tool calls
(status "idle"). The same messages also go into state.context's table,
session_context(session_id, seq, msg_id, payload), when it exists with those
columns, so that the conversation a real session carries (log and model
context) is there for agentd to avoid reading. If the messages table is not what this script expects it says exactly
how it differs and exits 3, instead of writing rows the server cannot read.
"""
import argparse
import json
import random
import sqlite3
import sys
import uuid
from datetime import datetime, timedelta

# column -> (declared type, NOT NULL, position in the primary key; 0 = not in it)
EXPECTED = {
    "session_id": ("TEXT", 1, 1),
    "seq": ("INTEGER", 1, 2),
    "msg_id": ("TEXT", 1, 0),
    "created_at": ("TEXT", 1, 0),
    "payload": ("TEXT", 1, 0),
}
EXPECTED_SQL = ("messages(session_id TEXT NOT NULL, seq INTEGER NOT NULL, msg_id TEXT NOT NULL, "
                "created_at TEXT NOT NULL, payload TEXT NOT NULL, PRIMARY KEY(session_id, seq))")


def check_schema(db: sqlite3.Connection, path: str) -> None:
    """Exits 3 on a difference that would make the seeded rows wrong."""
    cols = {r[1]: (r[2].upper(), r[3], r[5], r[4])
            for r in db.execute("PRAGMA table_info(messages)")}
    if not cols:
        tables = [r[0] for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        fail(path, f"there is no table 'messages' (tables: {', '.join(tables) or 'none'})")
    problems = []
    for name, (typ, notnull, pk) in EXPECTED.items():
        if name not in cols:
            problems.append(f"column '{name}' is missing")
            continue
        got_typ, got_notnull, got_pk, _ = cols[name]
        if affinity(got_typ) != typ:
            problems.append(f"column '{name}' is {got_typ or 'untyped'}, expected {typ}")
        if got_pk != pk:
            problems.append(f"column '{name}' has primary-key position {got_pk}, expected {pk}")
    for name, (typ, notnull, pk, default) in cols.items():
        if name not in EXPECTED and (notnull or pk) and default is None:
            problems.append(f"extra required column '{name}' {typ} (no default) "
                            "that this script cannot fill")
    if problems:
        actual = db.execute("SELECT sql FROM sqlite_master WHERE name='messages'").fetchone()[0]
        fail(path, "table 'messages' differs from what the benchmark seeds:\n  - "
             + "\n  - ".join(problems) + f"\n  expected: {EXPECTED_SQL}\n  actual:   {actual}")
    extra = [n for n in cols if n not in EXPECTED]
    if extra:
        print(f"seed_messages: note: messages has extra optional columns {extra}; "
              "left at their defaults", file=sys.stderr)


def context_table_ok(db: sqlite3.Connection) -> bool:
    """True when session_context exists and takes exactly the columns seeded."""
    cols = {r[1]: (r[3], r[4], r[5]) for r in db.execute("PRAGMA table_info(session_context)")}
    if not cols:
        print("seed_messages: note: no session_context table; only the message log is seeded",
              file=sys.stderr)
        return False
    seeded = {"session_id", "seq", "msg_id", "payload"}
    required = {n for n, (notnull, default, pk) in cols.items() if (notnull or pk) and default is None}
    if not seeded <= cols.keys() or not required <= seeded:
        print(f"seed_messages: note: session_context has columns {sorted(cols)}; "
              "not seeding it (only the message log is seeded)", file=sys.stderr)
        return False
    return True


def affinity(declared: str) -> str:
    """SQLite's type affinity of a declared column type (INT and BIGINT are INTEGER)."""
    t = declared.upper()
    if "INT" in t:
        return "INTEGER"
    if any(k in t for k in ("CHAR", "CLOB", "TEXT")):
        return "TEXT"
    return t


def fail(path: str, why: str, schema: bool = True) -> None:
    hint = ("\n  Update bench/foundation/seed_messages.py to the schema in migrations/."
            if schema else "")
    print(f"seed_messages: ERROR: {path}: {why}{hint}", file=sys.stderr)
    sys.exit(3)


def text_pool(nbytes: int) -> str:
    """Deterministic English-like ASCII text, so every run stores the same bytes."""
    rnd = random.Random(20260101)
    words = ("agent session tool model reply context memory plan search file read write "
             "result token stream event schedule workspace permission user assistant "
             "the a of to and in is for with on that this it as be by are").split()
    out, size = [], 0
    while size < nbytes:
        w = rnd.choice(words)
        out.append(w)
        size += len(w) + 1
    return " ".join(out)[:nbytes]


def hex_id(rnd: random.Random) -> str:
    return uuid.UUID(int=rnd.getrandbits(128), version=4).hex


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("db")
    ap.add_argument("sessions_file")
    ap.add_argument("--messages", type=int, default=100)
    ap.add_argument("--text-bytes", type=int, default=10_000)
    ap.add_argument("--agent-name", default="bench")
    ap.add_argument("--no-context", action="store_true",
                    help="seed only the message log, not session_context")
    a = ap.parse_args()

    with open(a.sessions_file) as f:
        sessions = [line.strip() for line in f if line.strip()]
    try:
        db = sqlite3.connect(f"file:{a.db}?mode=rw", uri=True, isolation_level=None)
        db.execute("PRAGMA busy_timeout = 5000")
    except sqlite3.Error as e:
        fail(a.db, f"cannot open: {e}", schema=False)
    check_schema(db, a.db)
    with_context = not a.no_context and context_table_ok(db)

    pool = text_pool(a.text_bytes * 8)
    rnd = random.Random(7)
    t0 = datetime(2026, 1, 1)
    total_bytes = 0
    db.execute("BEGIN IMMEDIATE")
    try:
        for s_index, sid in enumerate(sessions):
            (already,) = db.execute("SELECT count(*) FROM messages WHERE session_id = ?",
                                    (sid,)).fetchone()
            if already:
                fail(a.db, f"session {sid} already has {already} messages", schema=False)
            rows = []
            for seq in range(1, a.messages + 1):
                # pydantic's form: no fraction when microseconds are 0
                ts = (t0 + timedelta(hours=s_index, seconds=seq)).isoformat()
                start = rnd.randrange(0, len(pool) - a.text_bytes)
                user = seq % 2 == 1
                msg_id = hex_id(rnd)
                msg = {
                    "name": "user" if user else a.agent_name,
                    "content": [{"type": "text", "text": pool[start:start + a.text_bytes],
                                 "id": hex_id(rnd), "created_at": ts,
                                 "finished_at": None if user else ts}],
                    "role": "user" if user else "assistant",
                    "id": msg_id,
                    "metadata": {},
                    "created_at": ts,
                    "usage": None,
                    "finished_at": ts,
                    "finished_reason": None if user else "completed",
                    "structured_output": None,
                    "error": None,
                }
                payload = json.dumps(msg, separators=(",", ":"), ensure_ascii=False)
                total_bytes += len(payload)
                rows.append((sid, seq, msg_id, ts, payload))
            db.executemany("INSERT INTO messages(session_id, seq, msg_id, created_at, payload) "
                           "VALUES (?, ?, ?, ?, ?)", rows)
            if with_context:
                db.executemany("INSERT INTO session_context(session_id, seq, msg_id, payload) "
                               "VALUES (?, ?, ?, ?)", [(r[0], r[1], r[2], r[4]) for r in rows])
        db.execute("COMMIT")
    except sqlite3.Error as e:
        db.execute("ROLLBACK")
        fail(a.db, f"insert failed: {e}")
    db.close()
    print(f"seed_messages: {len(sessions)} sessions x {a.messages} messages, "
          f"{total_bytes / len(sessions) / 1e6:.2f} MB of payload per session"
          f"{' (message log and session_context)' if with_context else ' (message log)'}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
