-- Accounts. The email is stored trimmed and lowercased (the app parses it once at the
-- edge), so a plain unique constraint holds regardless of case.
CREATE TABLE IF NOT EXISTS users (
    id            BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         TEXT        NOT NULL UNIQUE,
    password_hash TEXT        NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Sessions, exactly as tower-sessions-sqlx-store's PostgresStore defines them. Creating
-- them here, under sqlx's migration lock, means instances that start at the same moment
-- do not race to create the schema; the store's own `migrate()` then finds them in place.
CREATE SCHEMA IF NOT EXISTS tower_sessions;
CREATE TABLE IF NOT EXISTS tower_sessions.session (
    id          TEXT        PRIMARY KEY NOT NULL,
    data        BYTEA       NOT NULL,
    expiry_date TIMESTAMPTZ NOT NULL
);
