//! The session middleware, stacked in one place ([`stack`]) in the order it needs:
//!
//! ```text
//! outermost  store_unavailable   gives the request the slot the store puts the joined-in user in;
//!                                a bare 500 from the layers below becomes 503 when the database is down
//!            session + auth      tower-sessions (loads the row, joins the user) and axum-login
//! ```
//!
//! and [`enforce_timeouts`], which the server's innermost layer calls before any handler
//! runs (one layer fewer for every request to pass through).

use std::time::Duration;

use axum::{
    extract::{Request, State},
    http::{header, HeaderValue, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    Json, Router,
};
use axum_login::AuthManagerLayerBuilder;
use tower::ServiceBuilder;
use tower_sessions::{cookie::SameSite, session_store::ExpiredDeletion, Expiry, SessionManagerLayer};

use super::{
    backend::{AuthSession, Backend},
    loaded_user,
    record::{unix_now, COOKIE_NAME, LOGIN_AT_KEY, SECURE_COOKIE_NAME, SEEN_AT_KEY},
    store::Store,
};
use crate::{
    config::{Config, SessionSettings},
    db::{self, Pool},
    error::AppError,
    passwords::Hasher,
};

/// How often expired sessions are swept from the table.
const SWEEP_EVERY: Duration = Duration::from_secs(3600);

/// Wraps `router` in the session layers, in order (see the module docs). Starts the
/// sweeper of expired sessions, so call it inside the runtime.
pub fn stack<S>(router: Router<S>, pool: &Pool, hasher: &Hasher, config: &Config) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let auth = AuthManagerLayerBuilder::new(
        Backend { pool: pool.clone(), hasher: hasher.clone() },
        session_layer(pool, config),
    )
    .build();
    router.layer(
        ServiceBuilder::new()
            .layer(middleware::from_fn_with_state(pool.clone(), store_unavailable))
            .layer(auth),
    )
}

/// The tower-sessions layer over our store, and the sweeper of expired rows. The cookie
/// is HttpOnly, SameSite=Lax, and Secure when the public URL is https.
fn session_layer(pool: &Pool, config: &Config) -> SessionManagerLayer<Store> {
    let store = Store::new(pool);
    // A failed sweep (database down) is logged and retried at the next tick;
    // tower-sessions' own `continuously_delete_expired` would stop for good.
    tokio::spawn({
        let store = store.clone();
        async move {
            let mut every = tokio::time::interval(SWEEP_EVERY);
            loop {
                every.tick().await;
                if let Err(e) = store.delete_expired().await {
                    tracing::warn!(error = %e, "could not sweep expired sessions; will retry");
                }
            }
        }
    });
    let secure = config.is_https();
    let idle = time::Duration::seconds(i64::try_from(config.sessions.idle.as_secs()).unwrap_or(i64::MAX));
    SessionManagerLayer::new(store)
        // `__Host-`: the browser then accepts the cookie only from this host, over https,
        // for the whole site, never set by a sibling subdomain.
        .with_name(if secure { SECURE_COOKIE_NAME } else { COOKIE_NAME })
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(secure)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(idle))
}

/// Both timeouts, on the request's own auth session (a copy would leave the handler
/// signed in): a request that crosses a timeout is refused itself, not the one after.
/// Absolute: ends a login older than `settings.absolute`, however active. Idle: the
/// store drops a session `settings.idle` after its last save; an active session is saved
/// again (extending that) once per refresh interval, not on every request. Call it
/// inside the session layers, before the handler.
pub async fn enforce_timeouts(settings: SessionSettings, request: &mut Request) {
    let Some(auth) = request.extensions_mut().get_mut::<AuthSession>() else {
        return;
    };
    if auth.user.is_none() {
        return;
    }
    let now = unix_now();
    let login_at: Option<u64> = auth.session.get(LOGIN_AT_KEY).await.ok().flatten();
    if timed_out(login_at, now, settings.absolute) {
        tracing::info!("session reached its absolute timeout");
        let _ = auth.logout().await;
    } else {
        let refresh_every = (settings.idle.as_secs() / 2).min(3600);
        let seen_at: Option<u64> = auth.session.get(SEEN_AT_KEY).await.ok().flatten();
        if seen_at.is_none_or(|at| now.saturating_sub(at) >= refresh_every) {
            let _ = auth.session.insert(SEEN_AT_KEY, now).await;
        }
    }
}

/// Whether a login at `login_at` (none recorded: treated as too old) is past `absolute` at `now`.
fn timed_out(login_at: Option<u64>, now: u64, absolute: Duration) -> bool {
    login_at.is_none_or(|at| now.saturating_sub(at) >= absolute.as_secs())
}

/// Gives the request its slot for the loaded user (`sessions::loaded_user`), for the layers below.
///
/// The session and login layers (tower-sessions, axum-login) answer a bare, empty 500
/// when they cannot load or save a session; the store's typed error does not reach us.
/// Their only IO is the database: when it does not answer a ping either, say 503 (with
/// Retry-After), as every handler does; when it does, the fault is ours, and it stays a
/// 500, with a body. Everything of ours answers errors with a body, so nothing else is
/// rewritten.
async fn store_unavailable(State(pool): State<Pool>, request: Request, next: Next) -> Response {
    let response = loaded_user::scope(next.run(request)).await;
    let bare = response.status() == StatusCode::INTERNAL_SERVER_ERROR
        && !response.headers().contains_key(header::CONTENT_TYPE)
        && axum::body::HttpBody::size_hint(response.body()).exact() == Some(0);
    if !bare {
        return response;
    }
    if db::ping(&pool).await {
        tracing::error!("the session store failed while the database answers");
        return (StatusCode::INTERNAL_SERVER_ERROR, Json(&AppError::Internal)).into_response();
    }
    tracing::warn!("session store unavailable; answering 503");
    let error = AppError::Unavailable;
    let mut response = (StatusCode::SERVICE_UNAVAILABLE, Json(&error)).into_response();
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(db::ACQUIRE_TIMEOUT.as_secs()));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_absolute_timeout_counts_from_the_login_and_includes_its_last_second() {
        let absolute = Duration::from_secs(60);
        assert!(!timed_out(Some(1_000), 1_059, absolute));
        assert!(timed_out(Some(1_000), 1_060, absolute));
        assert!(timed_out(Some(1_000), 1_063, absolute));
        assert!(timed_out(None, 1_000, absolute));
        // A clock that went back is not a reason to end a session.
        assert!(!timed_out(Some(1_000), 900, absolute));
    }
}
