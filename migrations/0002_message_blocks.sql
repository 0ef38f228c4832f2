-- Content blocks of long messages, stored one row each (src/storage/sqlite/message_layout.hpp).
-- A row of messages or session_context whose content_at is >= 0 holds the message's
-- head: its JSON with an empty content list whose inside begins at byte content_at;
-- its blocks are here, in idx order. content_at = -1: the payload is the whole message.
ALTER TABLE messages ADD COLUMN content_at INTEGER NOT NULL DEFAULT -1;
ALTER TABLE session_context ADD COLUMN content_at INTEGER NOT NULL DEFAULT -1;

CREATE TABLE message_blocks (
    session_id  TEXT    NOT NULL,
    store       INTEGER NOT NULL,  -- 0: a row of messages (the log), 1: of session_context
    seq         BIGINT  NOT NULL,  -- that row's seq
    idx         INTEGER NOT NULL,  -- the block's position in content
    digest      BLOB    NOT NULL,  -- BLAKE2b of payload: an unchanged block is not rewritten
    payload     TEXT    NOT NULL,
    PRIMARY KEY (session_id, store, seq, idx)
);
