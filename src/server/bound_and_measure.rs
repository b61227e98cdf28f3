//! The outermost layer: the request's id, its body read whole, its deadline, and the
//! metrics of its answer.

use std::time::Duration;

use axum::{extract::Request, http::StatusCode, middleware::Next, response::Response};

use super::body::{closing, read_whole_body};
use crate::security;

/// A request must be answered (its body read and the handler done) within this, else 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Middleware, outermost: the request's id (`security::request_id`), on the request and
/// on its answer; the body read whole before anything else sees it ([`read_whole_body`]); the
/// whole request's deadline ([`REQUEST_TIMEOUT`], 408); and the latency of every answer,
/// and its 429s and 503s, by route (a fixed set of names: a path nobody routes is `other`,
/// so scanners cannot grow the label set).
pub async fn identify_bound_and_measure(mut request: Request, next: Next) -> Response {
    let route = route_label(request.uri().path());
    let started = std::time::Instant::now();
    let id = security::request_id(&mut request);
    let answer = async {
        match read_whole_body(request).await {
            Ok(request) => next.run(request).await,
            Err(refused) => refused,
        }
    };
    let mut response = tokio::time::timeout(REQUEST_TIMEOUT, answer)
        .await
        .unwrap_or_else(|_| closing(StatusCode::REQUEST_TIMEOUT, "request timed out"));
    response.headers_mut().insert(security::REQUEST_ID, id);
    crate::metrics::request(route, response.status().as_u16(), started.elapsed().as_secs_f64());
    response
}

/// The route's name in the metrics' labels: one of a fixed set, so scanners cannot grow it.
fn route_label(path: &str) -> &'static str {
    const ROUTES: &[&str] = &[
        "/",
        "/login",
        "/signup",
        "/chat",
        "/verify",
        "/forgot",
        "/reset",
        "/account",
        "/healthz",
        "/readyz",
        "/api/signup",
        "/api/verify_email",
        "/api/resend_verification",
        "/api/login",
        "/api/logout",
        "/api/current_user",
        "/api/chat_token",
        "/api/forgot_password",
        "/api/reset_password",
        "/api/change_password",
        "/api/delete_account",
        "/api/set_display_name",
        "/api/account",
        "/api/sessions",
        "/api/end_session",
        "/api/end_other_sessions",
        "/api/device_tokens",
        "/api/connect_device",
        "/api/revoke_device_token",
        "/auth/oidc/start",
        "/auth/oidc/callback",
    ];
    if let Some(known) = ROUTES.iter().find(|r| **r == path) {
        return known;
    }
    if path.starts_with("/pkg/") || path.starts_with("/vendor/") || path == "/favicon.ico" {
        return "static";
    }
    "other"
}
