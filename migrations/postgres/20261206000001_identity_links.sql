-- Accounts linked to a user of the team's OpenID Connect provider, found by the provider's
-- `(issuer, sub)` ever after (so a changed email at the provider keeps the account). One
-- link per account and provider: an address moved to another user at the provider does
-- not bring that user into the account.
CREATE TABLE IF NOT EXISTS identity_links (
    issuer     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (issuer, subject),
    UNIQUE (issuer, user_id)
);
