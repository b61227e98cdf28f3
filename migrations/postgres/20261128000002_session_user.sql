-- Who the session is signed in as, so loading a session can join its user in the same
-- query. A hint only (NULL for older sessions): the login layer still checks the user.
-- Deleting a user ends their sessions.
ALTER TABLE tower_sessions.session
    ADD COLUMN IF NOT EXISTS user_id BIGINT REFERENCES users (id) ON DELETE CASCADE;
