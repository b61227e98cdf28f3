-- The mailbox's owner chooses the password, on the verification link's page: a link
-- carries nothing to set any more, so a password a sign-up chose is dropped from links
-- still pending (it was a stranger's as likely as the owner's).
UPDATE email_tokens SET password_hash = NULL WHERE password_hash IS NOT NULL;
-- What display names that look alike share (`DisplayName::key`: NFKC, lowercase, Unicode's
-- confusable skeleton): two accounts cannot be shown by names that look the same. The app
-- fills it for names stored before (`users::backfill_display_name_keys`).
ALTER TABLE users ADD COLUMN display_name_key TEXT;
CREATE UNIQUE INDEX users_display_name_key ON users (display_name_key);
