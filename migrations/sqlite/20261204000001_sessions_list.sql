-- What the account page lists about each signed-in browser, beside the record: an opaque
-- handle that names the session in the list (never its id), the browser in coarse words
-- ("Firefox on Linux"), and when it was created and last seen (Unix milliseconds; seen
-- is written at most once a minute). Sessions from before have no browser or creation time.
ALTER TABLE tower_sessions ADD COLUMN handle TEXT;
ALTER TABLE tower_sessions ADD COLUMN agent TEXT;
ALTER TABLE tower_sessions ADD COLUMN created_at INTEGER;
ALTER TABLE tower_sessions ADD COLUMN seen_at INTEGER;
UPDATE tower_sessions SET handle = lower(hex(randomblob(16))) WHERE handle IS NULL;
-- An account's sessions are listed, ended and capped by user.
CREATE INDEX tower_sessions_user_id ON tower_sessions (user_id);
