-- Calls to Twilio's Conversations API waiting to be made, written in the same transaction
-- as the account change that causes them (the outbox pattern; see src/db/twilio_calls.rs
-- for the claim protocol). No foreign key: a deletion's call outlives the account.
-- `email` and `chat_id` are both kept because the identity Twilio knows depends on
-- CHATPASS_CHAT_IDENTITY, which the sender reads; they are erased once the call is done.
CREATE TABLE twilio_calls (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id         INTEGER NOT NULL,
    call            TEXT    NOT NULL,
    email           TEXT    NOT NULL,
    chat_id         TEXT    NOT NULL,
    friendly_name   TEXT    NOT NULL,
    old_email       TEXT,
    created_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    claimed_until   INTEGER,
    claim_token     TEXT,
    done_at         INTEGER,
    failed_at       INTEGER,
    outcome         TEXT,
    last_error      TEXT
);
CREATE INDEX twilio_calls_due ON twilio_calls (next_attempt_at) WHERE done_at IS NULL AND failed_at IS NULL;
CREATE INDEX twilio_calls_user ON twilio_calls (user_id, id) WHERE done_at IS NULL AND failed_at IS NULL;
