//! What chatpass keeps in a session record besides axum-login's own keys: who logged in,
//! when (for the absolute timeout) and from which browser, and when the session was last
//! seen (for the idle timeout's refresh).

use std::time::{SystemTime, UNIX_EPOCH};

use tower_sessions::{session, Session};

/// The session cookie's name.
pub const COOKIE_NAME: &str = "chatpass_session";
/// Its name when the public URL is https.
pub const SECURE_COOKIE_NAME: &str = "__Host-chatpass_session";
/// When the login happened (seconds since the epoch).
pub const LOGIN_AT_KEY: &str = "chatpass.login_at";
/// Who the session is signed in as, copied by the store into its `user_id` column.
pub const USER_ID_KEY: &str = "chatpass.user_id";
/// When the session was last seen active: rewritten (which saves the session and pushes
/// its idle expiry out) at most once per refresh interval, not on every request.
pub const SEEN_AT_KEY: &str = "chatpass.seen_at";
/// The browser the login came from, in coarse words ("Firefox on Linux"), copied by the
/// store into its `agent` column when the session's row is created.
pub const AGENT_KEY: &str = "chatpass.agent";
/// The ID token of a session signed in through the OpenID provider: logout's `id_token_hint`.
pub const OIDC_ID_TOKEN_KEY: &str = "chatpass.oidc_id_token";

pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Records who logged in (the store keeps it beside the session, to join the user in when
/// it loads) and when, for the absolute timeout.
pub async fn mark_login(session: &Session, user_id: i64) -> Result<(), session::Error> {
    let now = unix_now();
    session.insert(USER_ID_KEY, user_id).await?;
    session.insert(LOGIN_AT_KEY, now).await?;
    session.insert(SEEN_AT_KEY, now).await
}

/// Records the browser a login came from: coarse words, never the raw `User-Agent`.
pub async fn mark_browser(session: &Session, agent: &str) -> Result<(), session::Error> {
    session.insert(AGENT_KEY, agent).await
}
