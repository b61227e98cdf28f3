//! The security layer: one middleware for two jobs, since each layer is a cost on every
//! request.

use axum::{
    extract::{Request, State},
    http::{header, HeaderMap, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
    Json,
};

use super::{
    cross_site::{cross_site_reason, OwnOrigin, APP_ROUTES},
    headers::set_security_headers,
};

/// What [`refuse_cross_site_and_set_headers`] needs to know of this site.
#[derive(Clone, Debug)]
pub struct SiteSecurity {
    pub own: OwnOrigin,
    /// The public URL is https: answers then carry `Strict-Transport-Security`.
    pub https: bool,
    /// `CHATPASS_CORS_ORIGINS`, normalised: the other origins whose web apps call [`APP_ROUTES`].
    pub cors_origins: Vec<String>,
}

impl SiteSecurity {
    /// Whether this request to an app route is an app's: it carries `Authorization` (judged
    /// by it alone) or comes from a listed origin. Either way no cookie may sign it in, so
    /// there is nothing for a cross-site request to ride on.
    fn is_app_request(&self, path: &str, headers: &HeaderMap) -> bool {
        APP_ROUTES.contains(&path)
            && (headers.contains_key(header::AUTHORIZATION)
                || headers
                    .get(header::ORIGIN)
                    .and_then(|o| o.to_str().ok())
                    .is_some_and(|o| self.cors_origins.iter().any(|listed| listed == o)))
    }
}

/// Middleware: refuses a cross-site request with 403 before any handler runs (an app's
/// request to an app route loses its cookies instead), and puts the security headers on
/// every answer, that 403 included.
pub async fn refuse_cross_site_and_set_headers(
    State(site): State<std::sync::Arc<SiteSecurity>>,
    mut request: Request,
    next: Next,
) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let refused = if site.is_app_request(request.uri().path(), request.headers()) {
        request.headers_mut().remove(header::COOKIE);
        None
    } else {
        cross_site_reason(&site.own, request.method(), request.headers())
    };
    let mut response = match refused {
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
