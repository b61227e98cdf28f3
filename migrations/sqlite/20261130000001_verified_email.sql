-- Proven emails (issue: verified identity). NULL = not proven yet; accounts made before
-- this change start unproven. Times here are Unix seconds (the app's clock writes them).
ALTER TABLE users ADD COLUMN email_verified_at INTEGER;
-- A stable, opaque chat identity per account (CHATPASS_CHAT_IDENTITY=user-id): random,
-- never reused, not derived from the email. Older accounts get one here.
ALTER TABLE users ADD COLUMN chat_id TEXT;
UPDATE users SET chat_id = lower(hex(randomblob(16))) WHERE chat_id IS NULL;
CREATE UNIQUE INDEX users_chat_id ON users (chat_id);

-- Single-use links sent by mail. Only the SHA-256 of the token is kept. A token is bound
-- to the user and to the email it was sent to; `password_hash` is the password chosen by
-- a sign-up for an address whose account nobody has proven yet, set when the link is used.
CREATE TABLE email_tokens (
    token_hash    TEXT    PRIMARY KEY NOT NULL,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email         TEXT    NOT NULL,
    purpose       TEXT    NOT NULL,
    password_hash TEXT,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    used_at       INTEGER
);
CREATE INDEX email_tokens_user ON email_tokens (user_id);

-- Mail waiting to go out, written in the same transaction as the change that causes it;
-- a background sender delivers it (see src/mail/outbox.rs for the claim protocol).
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id         INTEGER REFERENCES users (id) ON DELETE CASCADE,
    kind            TEXT    NOT NULL,
    recipient       TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    claimed_until   INTEGER,
    claim_token     TEXT,
    sent_at         INTEGER,
    failed_at       INTEGER,
    last_error      TEXT
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX outbox_user ON outbox (user_id, kind, created_at);
