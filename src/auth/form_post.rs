//! A server function's answer to a plain HTML form post (JavaScript off): a redirect to a
//! page, where the app's own script gets the JSON answer.

use leptos::prelude::use_context;

/// Whether this request is a plain HTML form post (JavaScript off): such a request is
/// answered with a redirect to a page, the app's own script gets the JSON answer.
pub fn is_form_post() -> bool {
    use_context::<axum::http::request::Parts>().is_some_and(|parts| {
        parts
            .headers
            .get(axum::http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"))
    })
}

/// Answers "accepted, more to come by mail": 202 with the JSON answer, or, for a plain
/// form post, a redirect to `page`.
pub fn accepted_or_redirect(page: &str) {
    if is_form_post() {
        leptos_axum::redirect(page);
    } else if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::ACCEPTED);
    }
}
