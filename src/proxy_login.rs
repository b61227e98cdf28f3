//! Behind an auth proxy (oauth2-proxy, Authelia, Pomerium): the header it puts the signed-in
//! email in (`CHATPASS_TRUSTED_IDENTITY_HEADER`) signs the browser in, believed only from a
//! peer in `CHATPASS_TRUSTED_PROXIES`. From any other peer the header is dropped and logged.
//! The email is parsed like any other; its account is found or made, proven.

use std::{net::SocketAddr, sync::Arc};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::{header, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
    Json,
};

use crate::{
    config::TrustedProxies, domain::Email, error::AppError, idp, sessions::AuthSession, state::AppState,
};

/// What the layer needs: the header's name (lowercase), the proxies, the database.
#[derive(Clone)]
pub struct ProxyLogin {
    pub header: axum::http::HeaderName,
    pub proxies: Arc<TrustedProxies>,
    pub state: AppState,
}

fn refused(reason: &str) -> Response {
    let error = AppError::bad_input("identity_header", reason);
    (StatusCode::BAD_REQUEST, Json(error)).into_response()
}

/// Middleware, inside the session layers: makes the request's session the header's account
/// (a new session id when it was anyone else's, or no one's) before anything reads it.
pub async fn sign_in_from_proxy(
    State(proxy): State<Arc<ProxyLogin>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut request: Request,
    next: Next,
) -> Response {
    let values: Vec<_> = request.headers().get_all(&proxy.header).iter().cloned().collect();
    if values.is_empty() {
        return next.run(request).await;
    }
    if !proxy.proxies.trusts(peer.ip()) {
        tracing::warn!(peer = %peer.ip(), header = %proxy.header, "identity header from a peer not in CHATPASS_TRUSTED_PROXIES: ignored");
        request.headers_mut().remove(&proxy.header);
        return next.run(request).await;
    }
    if values.len() > 1 {
        return refused("The identity header was sent more than once.");
    }
    let Ok(raw) = values[0].to_str() else {
        return refused("The identity header is not a readable email address.");
    };
    let email = match Email::parse(raw) {
        Ok(email) => email,
        Err(e) => return refused(&e.to_string()),
    };
    let Some(auth) = request.extensions_mut().get_mut::<AuthSession>() else {
        return next.run(request).await;
    };
    if auth.user.as_ref().is_some_and(|user| user.email == email.as_str()) {
        return next.run(request).await;
    }
    let now = std::time::UNIX_EPOCH.elapsed().map_or(0, |d| d.as_secs() as i64);
    let user = match idp::account_for_email(&proxy.state.pool, &email, now).await {
        Ok(user) => user,
        Err(idp::Refusal::Failed(e)) => {
            return (StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), Json(e))
                .into_response()
        }
        Err(_) => return refused("The identity header's email has no account here."),
    };
    let agent =
        request.headers().get(header::USER_AGENT).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let Some(auth) = request.extensions_mut().get_mut::<AuthSession>() else {
        return next.run(request).await;
    };
    if let Err(e) =
        crate::auth::start_session_with(auth, &user, &proxy.state.pool, &agent.unwrap_or_default()).await
    {
        return (StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), Json(e))
            .into_response();
    }
    tracing::info!(user.id = user.id, "signed in by the auth proxy's identity header");
    next.run(request).await
}
