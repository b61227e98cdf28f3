-- Display names (issue 16). NULL = none chosen: the name shown is the default derived from
-- the email when the user is read (its local part), so existing accounts need no backfill
-- and an account's default follows its email. The app stores only names it parsed
-- (`domain::DisplayName`: 1 to 64 characters after NFC, no control, format or bidi
-- characters, no `<` or `>`); the length check here is a backstop (`length` counts
-- characters on both databases).
ALTER TABLE users ADD COLUMN display_name TEXT
    CHECK (display_name IS NULL OR length(display_name) BETWEEN 1 AND 64);
