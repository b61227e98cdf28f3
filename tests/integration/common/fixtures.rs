//! The literals many tests share, written once: what a test means by "a good password"
//! or "a live Twilio account" is the same everywhere.

/// A password every policy accepts: the one test users choose.
pub const GOOD: &str = "correct horse battery staple";
/// A second accepted password, for a reset or a change away from [`GOOD`].
pub const OTHER: &str = "another good long passphrase";
/// A password the secret and log scans look for: it must never appear in what they read.
pub const MARKED_PASSWORD: &str = "PwMarker correct horse battery";

/// Well-formed Twilio ids for a live-mode server (no request ever reaches Twilio).
pub const ACCOUNT_SID: &str = "AC0123456789abcdef0123456789abcdef";
pub const API_KEY: &str = "SK0123456789abcdef0123456789abcdef";
pub const SERVICE_SID: &str = "IS0123456789abcdef0123456789abcdef";
