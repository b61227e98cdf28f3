-- Account lifecycle (issue: forgotten password, change password, delete account).

-- What a session is bound to instead of the password hash: random, replaced whenever the
-- password changes, so sessions signed in before the change stop working, and no session
-- row holds anything derived from the password. Existing sessions (which hold the old
-- value, the hash) sign their visitors out once.
ALTER TABLE users ADD COLUMN session_key TEXT;
UPDATE users SET session_key = lower(hex(randomblob(16))) WHERE session_key IS NULL;

-- Failed logins, counted in fixed windows. `scope` is 'pair' (one account from one
-- address: key = SHA-256 of the email, '|', the address) or 'address' (every account from
-- one address). A guess takes its slot here before the password is checked.
CREATE TABLE login_failures (
    scope        TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    window_start INTEGER NOT NULL,
    failures     INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX login_failures_window ON login_failures (window_start);
