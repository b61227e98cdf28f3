//! The request id: the one a proxy sent when it is sane, else a new random one.

use axum::{extract::Request, http::HeaderValue};

use super::random::random_hex;

/// The request id header.
pub const REQUEST_ID: &str = "x-request-id";

/// The request's id: taken from the request when it is a sane value (1 to 64 of
/// `A-Z a-z 0-9 - _ . :`; a proxy's or load balancer's id then follows the request
/// through), else a new random one. Set on the request (the trace span reads it, so every
/// log line of the request carries it); returned, for the server to set on the response.
pub fn request_id(request: &mut Request) -> HeaderValue {
    let given = request.headers().get(REQUEST_ID).filter(|v| v.to_str().is_ok_and(is_sane_request_id));
    let value = match given {
        Some(given) => given.clone(),
        None => HeaderValue::try_from(random_hex(16)).unwrap_or_else(|_| HeaderValue::from_static("-")),
    };
    request.headers_mut().insert(REQUEST_ID, value.clone());
    value
}

fn is_sane_request_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_kept_only_when_sane() {
        assert!(is_sane_request_id("0f9c2a-req.42:lb"));
        assert!(is_sane_request_id(&"a".repeat(64)));
        for bad in ["", &"a".repeat(65), "a b", "a\tb", "id\u{1b}[8m", "\u{e9}t\u{e9}", "a/b", "<script>"] {
            assert!(!is_sane_request_id(bad), "{bad:?}");
        }
    }
}
