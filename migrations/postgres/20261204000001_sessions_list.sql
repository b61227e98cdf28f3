-- What the account page lists about each signed-in browser, beside the record: an opaque
-- handle that names the session in the list (never its id), the browser in coarse words
-- ("Firefox on Linux"), and when it was created and last seen (Unix milliseconds; seen
-- is written at most once a minute). Sessions from before have no browser or creation time.
ALTER TABLE tower_sessions.session
    ADD COLUMN IF NOT EXISTS handle TEXT,
    ADD COLUMN IF NOT EXISTS agent TEXT,
    ADD COLUMN IF NOT EXISTS created_at BIGINT,
    ADD COLUMN IF NOT EXISTS seen_at BIGINT;
UPDATE tower_sessions.session SET handle = replace(gen_random_uuid()::text, '-', '') WHERE handle IS NULL;
-- An account's sessions are listed, ended and capped by user.
CREATE INDEX IF NOT EXISTS session_user_id ON tower_sessions.session (user_id);
