//! The server side of the signed-in browsers' server functions (each forwards to the
//! function of the same name here), and the cap a new session starts under.

use super::{
    info::{EndedSession, EndedSessions, SessionInfo},
    user_agent,
};
use crate::{
    auth::{form_post::is_form_post, session_error::session_error},
    db::{
        self,
        sessions::{Ended, Listed},
    },
    error::AppError,
    mail::messages::utc_time,
    sessions::{self, AuthSession},
    state::{app_state, auth_session},
};

/// Sessions one account keeps at most: a new one beyond it ends the oldest first.
pub const SESSIONS_PER_ACCOUNT: i64 = 20;

/// A handle is 16 random bytes as lowercase hex (`sessions::store`).
const HANDLE_LEN: usize = 32;

/// Records the new session's browser, writes its row now (not when the answer goes out,
/// so that the cap below counts it), and ends the account's oldest sessions past
/// [`SESSIONS_PER_ACCOUNT`]. Call once the session is signed in.
pub async fn start_within_cap(
    auth: &AuthSession,
    user_id: i64,
    pool: &crate::db::Pool,
    user_agent: &str,
) -> Result<(), AppError> {
    let agent = user_agent::describe(user_agent);
    sessions::mark_browser(&auth.session, &agent).await.map_err(session_error)?;
    auth.session.save().await.map_err(session_error)?;
    let ended = db::sessions::keep_newest(pool, user_id, SESSIONS_PER_ACCOUNT).await?;
    if ended > 0 {
        tracing::info!(user.id = user_id, ended, "the account's oldest sessions ended: past the cap");
    }
    Ok(())
}

/// The request's `User-Agent` (empty without one), read only to be put in coarse words.
pub fn user_agent_header() -> String {
    leptos::prelude::use_context::<axum::http::request::Parts>()
        .and_then(|parts| {
            let value = parts.headers.get(axum::http::header::USER_AGENT)?;
            Some(String::from_utf8_lossy(value.as_bytes()).into_owned())
        })
        .unwrap_or_default()
}

pub async fn sessions() -> Result<Vec<SessionInfo>, AppError> {
    let state = app_state()?;
    let auth = auth_session().await?;
    let user = auth.user.as_ref().ok_or(AppError::NotSignedIn)?;
    let listed = db::sessions::list_for_user(&state.pool, user.id, auth.session.id()).await?;
    Ok(listed.into_iter().map(info).collect())
}

fn info(listed: Listed) -> SessionInfo {
    let time = |ms: Option<i64>| ms.map_or_else(|| "not recorded".to_string(), |ms| utc_time(ms / 1000));
    SessionInfo {
        browser: listed.agent.unwrap_or_else(|| user_agent::UNKNOWN.to_string()),
        signed_in: time(listed.created_at),
        last_seen: time(listed.seen_at),
        current: listed.current,
        handle: listed.handle,
    }
}

/// `handle` when it can be one (400 otherwise: nothing is looked up).
fn parse_handle(handle: &str) -> Result<&str, AppError> {
    if handle.len() == HANDLE_LEN && handle.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(handle)
    } else {
        Err(AppError::bad_input("handle", "This is not a session of the list."))
    }
}

pub async fn end_session(handle: String) -> Result<EndedSession, AppError> {
    let state = app_state()?;
    let mut auth = auth_session().await?;
    let user_id = auth.user.as_ref().ok_or(AppError::NotSignedIn)?.id;
    let handle = parse_handle(&handle)?;
    match db::sessions::end_by_handle(&state.pool, user_id, handle, auth.session.id()).await? {
        Ended::Nothing => Err(AppError::UnknownSession),
        Ended::Current => {
            // Its row is gone already; this clears the cookie and the request's session.
            auth.logout().await.map_err(session_error)?;
            tracing::info!(user.id = user_id, "this session ended from the list of signed-in browsers");
            leptos_axum::redirect("/login");
            Ok(EndedSession { handle: handle.to_string() })
        }
        Ended::Another => {
            tracing::info!(user.id = user_id, "another session of the account ended");
            if is_form_post() {
                leptos_axum::redirect("/account?ended=one");
            }
            Ok(EndedSession { handle: handle.to_string() })
        }
    }
}

pub async fn end_other_sessions() -> Result<EndedSessions, AppError> {
    let state = app_state()?;
    let auth = auth_session().await?;
    let user_id = auth.user.as_ref().ok_or(AppError::NotSignedIn)?.id;
    let current = auth.session.id().ok_or(AppError::NotSignedIn)?;
    let ended = db::sessions::end_all_but(&state.pool, user_id, &current).await?;
    tracing::info!(user.id = user_id, ended, "every other session of the account ended");
    if is_form_post() {
        leptos_axum::redirect("/account?ended=others");
    }
    Ok(EndedSessions { ended })
}
