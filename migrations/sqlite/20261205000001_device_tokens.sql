-- Device tokens: what an app (iOS, Android) signs in with instead of a cookie. Only the
-- token's SHA-256 is stored; `id` is a random public name for the list and for revoking.
-- Times are Unix seconds; `last_used_at` is written at most once a minute per token.
CREATE TABLE device_tokens (
    id           TEXT    PRIMARY KEY NOT NULL,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash   TEXT    NOT NULL UNIQUE,
    device_name  TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER
);
CREATE INDEX device_tokens_user_id ON device_tokens (user_id);
