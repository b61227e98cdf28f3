//! Login-only pages, and the answers of signed-in visitors kept out of caches.

use axum::{
    extract::Request,
    http::{header, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::error_status::server_fn_error_status;
use crate::{
    config::SessionSettings,
    sessions::{self, AuthSession},
};

/// Middleware, inside the session layers, in front of every page and server function (one
/// layer, since each layer is a cost on every request): the session's timeouts
/// (`sessions::layers::enforce_timeouts`), then [`login_first`] for the login-only pages,
/// then the real status of a server function's error ([`server_fn_error_status`]), and
/// [`keep_out_of_caches`].
pub(super) async fn require_login_and_set_statuses(
    timeouts: SessionSettings,
    mut request: Request,
    next: Next,
) -> Response {
    sessions::layers::enforce_timeouts(timeouts, &mut request).await;
    let signed_in = request.extensions().get::<AuthSession>().is_some_and(|auth| auth.user.is_some());
    let to_login = login_first(request.uri().path(), signed_in);
    let path = request.uri().path().to_owned();
    let response = match to_login {
        Some(location) => (StatusCode::FOUND, [(header::LOCATION, location)]).into_response(),
        None => next.run(request).await,
    };
    let mut response = server_fn_error_status(response).await;
    keep_out_of_caches(&path, signed_in, &mut response);
    response
}

/// Where a signed-out visitor of a login-only page (`/chat`, `/account`) is sent instead,
/// before any HTML: the login page, which brings them back after.
fn login_first(path: &str, signed_in: bool) -> Option<&'static str> {
    match path {
        "/chat" if !signed_in => Some("/login?next=/chat"),
        "/account" if !signed_in => Some("/login?next=/account"),
        _ => None,
    }
}

/// A page that shows an account (every page of a signed-in visitor) or carries a mailed link
/// (`/verify`, `/reset`) is never stored by a browser or a shared cache; logout also asks the
/// browser to drop what it cached for this site, so the back button shows nothing of the account.
fn keep_out_of_caches(path: &str, signed_in: bool, response: &mut Response) {
    let is_page = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"));
    if (is_page && signed_in) || matches!(path, "/verify" | "/reset") {
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if path == "/api/logout" {
        response.headers_mut().insert("clear-site-data", HeaderValue::from_static("\"cache\""));
    }
}
