//! A request's body read whole before any handler sees it, within a size and a time limit,
//! so no handler waits on a client that sends slowly.

use std::{pin::Pin, time::Duration};

use axum::{
    body::{Body, HttpBody},
    extract::Request,
    http::{header, StatusCode},
    response::{IntoResponse, Response},
};

/// Request bodies above this many bytes are refused with 413 (the Twilio webhook's limit is its own).
pub const BODY_LIMIT: usize = 16 * 1024;
/// A request's body must have arrived whole this long after its header, else 408.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// The request with its body read whole: at most [`BODY_LIMIT`] bytes (413) within
/// [`BODY_TIMEOUT`] (408), so no handler waits on a client that sends slowly. A body known
/// to be empty is passed on as it is.
pub(super) async fn read_whole_body(request: Request) -> Result<Request, Response> {
    let (parts, mut body) = request.into_parts();
    let hint = body.size_hint();
    if hint.exact() == Some(0) && !is_json(&parts) {
        return Ok(Request::from_parts(parts, body));
    }
    let too_large = || closing(StatusCode::PAYLOAD_TOO_LARGE, "length limit exceeded");
    // Twilio's webhook carries whole messages; everything else is a form or a small JSON.
    let limit = if parts.uri.path() == crate::twilio::webhook::PATH {
        crate::twilio::webhook::BODY_LIMIT
    } else {
        BODY_LIMIT
    };
    if hint.lower() > limit as u64 {
        return Err(too_large());
    }
    let read = async {
        let mut bytes = Vec::new();
        while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
            let frame = frame.map_err(|_| closing(StatusCode::BAD_REQUEST, "request body unreadable"))?;
            if let Ok(data) = frame.into_data() {
                if bytes.len() + data.len() > limit {
                    return Err(too_large());
                }
                bytes.extend_from_slice(&data);
            }
        }
        Ok(bytes)
    };
    match tokio::time::timeout(BODY_TIMEOUT, read).await {
        Ok(Ok(bytes)) if is_json(&parts) => {
            let mut parts = parts;
            let form = json_as_form(&bytes).ok_or_else(json_refused)?;
            let form_type = header::HeaderValue::from_static("application/x-www-form-urlencoded");
            parts.headers.insert(header::CONTENT_TYPE, form_type);
            parts.headers.remove(header::CONTENT_LENGTH);
            Ok(Request::from_parts(parts, Body::from(form)))
        }
        Ok(Ok(bytes)) => Ok(Request::from_parts(parts, Body::from(bytes))),
        Ok(Err(refused)) => Err(refused),
        Err(_) => Err(closing(StatusCode::REQUEST_TIMEOUT, "request body timed out")),
    }
}

/// A JSON body sent to a server function (`/api/…`): apps send JSON, the server functions
/// read forms.
fn is_json(parts: &axum::http::request::Parts) -> bool {
    parts.method == axum::http::Method::POST
        && parts.uri.path().starts_with("/api/")
        && parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

/// A JSON object of strings, numbers and booleans as the form a server function reads
/// (a `null` is a field left out); `None` for anything else.
fn json_as_form(bytes: &[u8]) -> Option<String> {
    use serde_json::Value;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Some(String::new());
    }
    let object: serde_json::Map<String, Value> = serde_json::from_slice(bytes).ok()?;
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in &object {
        match value {
            Value::String(text) => form.append_pair(name, text),
            Value::Number(n) => form.append_pair(name, &n.to_string()),
            Value::Bool(b) => form.append_pair(name, if *b { "true" } else { "false" }),
            Value::Null => &mut form,
            Value::Array(_) | Value::Object(_) => return None,
        };
    }
    Some(form.finish())
}

fn json_refused() -> Response {
    let error = crate::error::AppError::bad_input(
        "request",
        "The JSON body must be one object whose values are strings, numbers or booleans.",
    );
    (StatusCode::BAD_REQUEST, axum::Json(error)).into_response()
}

/// An answer after which the connection is closed: what is left of its request is unread.
pub(super) fn closing(status: StatusCode, why: &'static str) -> Response {
    (status, [(header::CONNECTION, "close")], why).into_response()
}
