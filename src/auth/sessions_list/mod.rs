//! Signed-in browsers: the account's sessions as the account page lists them (named by an
//! opaque handle, never by the session id), ending one or every other, and the cap on how
//! many sessions one account keeps (a new one ends the oldest past it).

use leptos::prelude::*;

use crate::error::AppError;

#[cfg(feature = "ssr")]
mod handlers;
mod info;
#[cfg(feature = "ssr")]
mod user_agent;

#[cfg(feature = "ssr")]
pub(super) use handlers::{start_within_cap, user_agent_header};
pub use info::{EndedSession, EndedSessions, SessionInfo};

/// The signed-in account's live sessions, newest first; this browser's is `current`.
#[server(prefix = "/api", endpoint = "sessions")]
pub async fn sessions() -> Result<Vec<SessionInfo>, AppError> {
    handlers::sessions().await
}

/// Ends the account's session named `handle` at once (404 when none of its sessions has
/// that handle); ending this browser's own signs it out.
#[server(prefix = "/api", endpoint = "end_session")]
pub async fn end_session(handle: String) -> Result<EndedSession, AppError> {
    handlers::end_session(handle).await
}

/// Ends every session of the account but this browser's.
#[server(prefix = "/api", endpoint = "end_other_sessions")]
pub async fn end_other_sessions() -> Result<EndedSessions, AppError> {
    handlers::end_other_sessions().await
}
