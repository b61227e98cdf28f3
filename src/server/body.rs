//! A request's body read whole before any handler sees it, within a size and a time limit,
//! so no handler waits on a client that sends slowly.

use std::{pin::Pin, time::Duration};

use axum::{
    body::{Body, HttpBody},
    extract::Request,
    http::{header, StatusCode},
    response::{IntoResponse, Response},
};

/// Request bodies above this many bytes are refused with 413.
pub const BODY_LIMIT: usize = 16 * 1024;
/// A request's body must have arrived whole this long after its header, else 408.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// The request with its body read whole: at most [`BODY_LIMIT`] bytes (413) within
/// [`BODY_TIMEOUT`] (408), so no handler waits on a client that sends slowly. A body known
/// to be empty is passed on as it is.
pub(super) async fn read_whole_body(request: Request) -> Result<Request, Response> {
    let (parts, mut body) = request.into_parts();
    let hint = body.size_hint();
    if hint.exact() == Some(0) {
        return Ok(Request::from_parts(parts, body));
    }
    let too_large = || closing(StatusCode::PAYLOAD_TOO_LARGE, "length limit exceeded");
    if hint.lower() > BODY_LIMIT as u64 {
        return Err(too_large());
    }
    let read = async {
        let mut bytes = Vec::new();
        while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
            let frame = frame.map_err(|_| closing(StatusCode::BAD_REQUEST, "request body unreadable"))?;
            if let Ok(data) = frame.into_data() {
                if bytes.len() + data.len() > BODY_LIMIT {
                    return Err(too_large());
                }
                bytes.extend_from_slice(&data);
            }
        }
        Ok(bytes)
    };
    match tokio::time::timeout(BODY_TIMEOUT, read).await {
        Ok(Ok(bytes)) => Ok(Request::from_parts(parts, Body::from(bytes))),
        Ok(Err(refused)) => Err(refused),
        Err(_) => Err(closing(StatusCode::REQUEST_TIMEOUT, "request body timed out")),
    }
}

/// An answer after which the connection is closed: what is left of its request is unread.
pub(super) fn closing(status: StatusCode, why: &'static str) -> Response {
    (status, [(header::CONNECTION, "close")], why).into_response()
}
