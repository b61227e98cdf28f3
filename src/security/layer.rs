//! The security layer: one middleware for two jobs, since each layer is a cost on every
//! request.

use axum::{
    extract::{Request, State},
    http::StatusCode,
    middleware::Next,
    response::{IntoResponse, Response},
    Json,
};

use super::{cross_site::cross_site_reason, cross_site::OwnOrigin, headers::set_security_headers};

/// What [`refuse_cross_site_and_set_headers`] needs to know of this site.
#[derive(Clone, Debug)]
pub struct SiteSecurity {
    pub own: OwnOrigin,
    /// The public URL is https: answers then carry `Strict-Transport-Security`.
    pub https: bool,
}

/// Middleware: refuses a cross-site request with 403 before any handler runs, and puts
/// the security headers on every answer, that 403 included.
pub async fn refuse_cross_site_and_set_headers(
    State(site): State<std::sync::Arc<SiteSecurity>>,
    request: Request,
    next: Next,
) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let mut response = match cross_site_reason(&site.own, request.method(), request.headers()) {
        Some(reason) => {
            tracing::warn!(reason, path = %request.uri().path(), "refused cross-site request");
            (
                StatusCode::FORBIDDEN,
                Json(
                    serde_json::json!({"error": "cross_site", "reason": "Cross-site requests are refused."}),
                ),
            )
                .into_response()
        }
        None => next.run(request).await,
    };
    set_security_headers(response.headers_mut(), site.https, api);
    response
}
