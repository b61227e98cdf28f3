//! The real status of a server function's error, and the signature of a form's error
//! redirect.

use axum::{
    body::Body,
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};

use crate::{db, error::AppError, security};

/// Server functions answer every error with 500 and the error as JSON. This reads our
/// [`AppError`] back and sets its real status (400, 401, 409, 429 and 503 with
/// `Retry-After`). A plain form post's error is a redirect back to the form with the error
/// in the URL: that redirect keeps its status and is signed (`security::form_error`).
///
/// Why after the fact and not `ResponseOptions::set_status` in each server function: in
/// Leptos 0.8 the errors that arise before our code runs (a body that does not decode
/// into the function's arguments, a missing field: 400) are answered by server_fn
/// itself with 500, so no code of ours could set their status; and `ResponseOptions`'s
/// status also overrides the 302 that sends a no-JavaScript form post back to its page.
pub(super) async fn server_fn_error_status(response: Response) -> Response {
    // server_fn marks its error answers, the redirect too, with its endpoint's path: no
    // success answer carries it, so no success redirect is ever signed.
    let Some(endpoint) =
        response.headers().get(server_fn::error::SERVER_FN_ERROR_HEADER).and_then(|v| v.to_str().ok())
    else {
        return response;
    };
    let endpoint = endpoint.to_owned();
    let redirected = response.status() == StatusCode::FOUND;
    if !redirected && response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "error body unreadable").into_response();
    };
    if redirected {
        let signed = parts
            .headers
            .get(header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .and_then(|l| {
                let now = std::time::UNIX_EPOCH.elapsed().map_or(0, |d| d.as_secs());
                security::form_error::sign_error_redirect(l, &endpoint, &bytes, now)
            })
            .and_then(|l| HeaderValue::from_str(&l).ok());
        if let Some(location) = signed {
            parts.headers.insert(header::LOCATION, location);
        }
        return Response::from_parts(parts, Body::from(bytes));
    }
    if let Ok(error) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry_after = match error {
            AppError::RateLimited { retry_after } => Some(retry_after),
            AppError::Unavailable => Some(db::ACQUIRE_TIMEOUT.as_secs()),
            _ => None,
        };
        if let Some(seconds) = retry_after {
            parts.headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if error == AppError::InvalidToken {
            let challenge = HeaderValue::from_static(r#"Bearer error="invalid_token""#);
            parts.headers.insert(header::WWW_AUTHENTICATE, challenge);
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}
