-- Device tokens: what an app (iOS, Android) signs in with instead of a cookie. Only the
-- token's SHA-256 is stored; `id` is a random public name for the list and for revoking.
-- Times are Unix seconds; `last_used_at` is written at most once a minute per token.
CREATE TABLE IF NOT EXISTS device_tokens (
    id           TEXT   PRIMARY KEY NOT NULL,
    user_id      BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash   TEXT   NOT NULL UNIQUE,
    device_name  TEXT   NOT NULL,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE INDEX IF NOT EXISTS device_tokens_user_id ON device_tokens (user_id);
