-- Agentd schema, revision 1. Plain SQL that SQLite and PostgreSQL both accept.
-- Timestamps are microseconds since the Unix epoch (UTC); JSON is compact text.

CREATE TABLE credentials (
    user_id     TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    type        TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    created_us  BIGINT  NOT NULL,
    updated_us  BIGINT  NOT NULL,
    data        TEXT    NOT NULL,  -- credential JSON with secret fields blanked
    secrets     BLOB    NOT NULL,  -- secretbox(nonce || ciphertext) of {field: secret}
    PRIMARY KEY (user_id, id)
);
CREATE INDEX ix_credentials_user_type_name ON credentials (user_id, type, name);
CREATE INDEX ix_credentials_id ON credentials (id);

CREATE TABLE agents (
    id          TEXT    NOT NULL PRIMARY KEY,
    user_id     TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    created_us  BIGINT  NOT NULL,
    updated_us  BIGINT  NOT NULL,
    data        TEXT    NOT NULL
);
CREATE INDEX ix_agents_user_source ON agents (user_id, source, created_us);

CREATE TABLE sessions (
    id                  TEXT    NOT NULL PRIMARY KEY,
    user_id             TEXT    NOT NULL,
    agent_id            TEXT    NOT NULL,
    source              TEXT    NOT NULL,
    source_schedule_id  TEXT,
    source_chat_id      TEXT,
    source_channel_id   TEXT,
    team_id             TEXT,
    created_us          BIGINT  NOT NULL,
    updated_us          BIGINT  NOT NULL,
    config              TEXT    NOT NULL,
    -- The small state: each part of AgentState but `context`, as JSON text.
    state_session_id    TEXT    NOT NULL,
    summary             TEXT    NOT NULL,
    reply_context       TEXT    NOT NULL,
    permission_context  TEXT    NOT NULL,
    tool_context        TEXT    NOT NULL,
    tasks_context       TEXT    NOT NULL,
    middle_context      TEXT    NOT NULL,
    tail_status         TEXT    NOT NULL DEFAULT 'idle'
);
CREATE INDEX ix_sessions_user_agent_created ON sessions (user_id, agent_id, created_us);
CREATE INDEX ix_sessions_schedule ON sessions (source_schedule_id);
CREATE INDEX ix_sessions_team ON sessions (team_id);

-- state.context: the model's working conversation, append-only per session.
CREATE TABLE session_context (
    session_id  TEXT    NOT NULL,
    seq         BIGINT  NOT NULL,
    msg_id      TEXT    NOT NULL,
    payload     TEXT    NOT NULL,
    PRIMARY KEY (session_id, seq)
);

-- The message log shown to users, append-only with in-place replacement by id.
CREATE TABLE messages (
    session_id  TEXT    NOT NULL,
    seq         BIGINT  NOT NULL,
    msg_id      TEXT    NOT NULL,
    created_at  TEXT    NOT NULL,
    payload     TEXT    NOT NULL,
    PRIMARY KEY (session_id, seq)
);
CREATE UNIQUE INDEX ux_messages_session_msg ON messages (session_id, msg_id);
CREATE INDEX ix_session_context_msg ON session_context (session_id, msg_id);
