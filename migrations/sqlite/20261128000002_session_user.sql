-- Sessions (tower-sessions records, MessagePack) in the table tower-sessions-sqlx-store
-- created, which earlier versions used; created here if it is not there yet.
CREATE TABLE IF NOT EXISTS tower_sessions (
    id          TEXT    PRIMARY KEY NOT NULL,
    data        BLOB    NOT NULL,
    expiry_date INTEGER NOT NULL
);
-- Who the session is signed in as, so loading a session can join its user in the same
-- query. A hint only (NULL for older sessions): the login layer still checks the user.
-- Deleting a user ends their sessions.
ALTER TABLE tower_sessions ADD COLUMN user_id INTEGER REFERENCES users (id) ON DELETE CASCADE;
