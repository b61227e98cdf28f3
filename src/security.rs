//! Cross-site request protection, before any handler runs: a state-changing request is
//! refused with 403 when the browser says it is cross-site (`Sec-Fetch-Site`), or when
//! its `Origin` (or, lacking one, its `Referer`) is not this site's origin.

pub mod form_error;

use axum::{
    extract::{Request, State},
    http::{header, HeaderMap, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
    Json,
};

/// `n` random bytes (the OS-seeded CSPRNG of `rand`), as lowercase hex: secrets and ids
/// nobody can guess (the demo signing secret, chat ids, outbox claims).
pub fn random_hex(n: usize) -> String {
    use rand::RngCore;
    let mut bytes = vec![0u8; n];
    rand::rng().fill_bytes(&mut bytes);
    hex(&bytes)
}

/// Bytes as lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

/// The origin this site is served from: `CHATPASS_PUBLIC_URL` when set, else derived
/// from each request's `Host`.
#[derive(Clone, Debug)]
pub struct OwnOrigin(pub Option<String>);

/// Calls `f` with the origin `url` names (scheme, host, port; normalised), if any.
///
/// Parsing a URL was 5% of a signed-in request's time, and a browser sends the same
/// `Origin` on every request: each thread remembers its last answer, and lends it to `f`
/// rather than copying it.
fn with_origin_of<R>(url: &str, f: impl FnOnce(Option<&str>) -> R) -> R {
    thread_local! {
        static LAST: std::cell::RefCell<Option<(String, Option<String>)>> = const { std::cell::RefCell::new(None) };
    }
    LAST.with_borrow_mut(|last| {
        if last.as_ref().is_none_or(|(input, _)| input != url) {
            let origin = url::Url::parse(url)
                .ok()
                .filter(|parsed| parsed.host_str().is_some())
                .map(|parsed| parsed.origin().ascii_serialization());
            *last = Some((url.to_owned(), origin));
        }
        f(last.as_ref().and_then(|(_, origin)| origin.as_deref()))
    })
}

/// `None` when the request may go on; otherwise why not.
pub fn cross_site_reason(own: &OwnOrigin, method: &Method, headers: &HeaderMap) -> Option<&'static str> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return None;
    }
    let get = |name| headers.get(name).map(|v| v.to_str().unwrap_or("\u{0}"));
    if get("sec-fetch-site") == Some("cross-site") {
        return Some("cross-site request");
    }
    let claimed = match (get(header::ORIGIN.as_str()), get(header::REFERER.as_str())) {
        (Some(origin), _) => Some(origin),
        (None, Some(referer)) => Some(referer),
        (None, None) => None,
    };
    let Some(claimed) = claimed else {
        return None; // not a browser, or one that sends neither: SameSite=Lax still applies
    };
    with_origin_of(claimed, |claimed| {
        let Some(claimed) = claimed else {
            return Some("unreadable Origin or Referer");
        };
        let matches = match &own.0 {
            Some(own) => claimed == own,
            None => {
                let host = get(header::HOST.as_str()).unwrap_or("");
                [claimed.strip_prefix("http://"), claimed.strip_prefix("https://")].contains(&Some(host))
            }
        };
        (!matches).then_some("Origin is not this site")
    })
}

/// The Content-Security-Policy for an HTML page whose inline scripts carry `nonce`:
/// scripts from this site only (plus Leptos's nonced inline ones, and WebAssembly),
/// network to this site and the Twilio hosts the Conversations SDK uses, no framing.
/// `live_reload`: under `cargo leptos watch` (`make dev`) only, the port of its reload
/// websocket, which the page must be allowed to connect to.
pub fn page_csp(nonce: &str, live_reload: Option<u32>) -> String {
    let reload = live_reload.map(|port| format!(" ws://*:{port} wss://*:{port}")).unwrap_or_default();
    format!(
        "default-src 'self'; \
         script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; \
         img-src 'self' data: https://*.twilio.com; \
         media-src 'self' https://*.twilio.com; \
         connect-src 'self' wss://*.twilio.com https://*.twilio.com{reload}; \
         object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// For everything that is not a page (JSON, the bundle, files): nothing may run or frame it.
const DEFAULT_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// What [`guard`] needs to know of this site.
#[derive(Clone, Debug)]
pub struct Guard {
    pub own: OwnOrigin,
    /// The public URL is https: answers then carry `Strict-Transport-Security`.
    pub https: bool,
}

/// Middleware, one layer for two jobs (each layer is a cost on every request): refuses a
/// cross-site request with 403 before any handler runs, and puts the security headers on
/// every answer, that 403 included. Pages set their own CSP (with the nonce of their
/// inline scripts); everything else gets the strict default.
pub async fn guard(State(guard): State<std::sync::Arc<Guard>>, request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let mut response = match cross_site_reason(&guard.own, request.method(), request.headers()) {
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
    let headers = response.headers_mut();
    if guard.https {
        // Two years, the preload list's minimum; only when the public URL is https.
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=63072000"));
    }
    if api {
        // Tokens and account data: never kept by a browser or a shared cache.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    headers.insert("referrer-policy", HeaderValue::from_static("strict-origin-when-cross-origin"));
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(DEFAULT_CSP));
    }
    response
}

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

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn request_ids_are_kept_only_when_sane() {
        assert!(is_sane_request_id("0f9c2a-req.42:lb"));
        assert!(is_sane_request_id(&"a".repeat(64)));
        for bad in ["", &"a".repeat(65), "a b", "a\tb", "id\u{1b}[8m", "\u{e9}t\u{e9}", "a/b", "<script>"] {
            assert!(!is_sane_request_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn the_page_csp_allows_the_reload_socket_only_under_watch() {
        let csp = page_csp("abc", None);
        assert!(csp.contains("'nonce-abc'") && !csp.contains("ws://"), "{csp}");
        let csp = page_csp("abc", Some(3001));
        assert!(
            csp.contains(
                "connect-src 'self' wss://*.twilio.com https://*.twilio.com ws://*:3001 wss://*:3001;"
            ),
            "{csp}"
        );
    }

    #[test]
    fn hex_is_lowercase_two_digits_per_byte() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa0, 0xff, 0x5c]), "000fa0ff5c");
        assert_eq!(hex(&[]), "");
        assert_eq!(random_hex(16).len(), 32);
    }

    #[test]
    fn an_origin_asked_again_or_in_turn_with_others_gets_the_same_answer() {
        let cases = [
            ("https://chat.example.com", Some("https://chat.example.com")),
            ("HTTPS://Chat.Example.com:443/path?q", Some("https://chat.example.com")),
            ("http://127.0.0.1:3000", Some("http://127.0.0.1:3000")),
            ("null", None),
            ("file:///etc/passwd", None),
            ("", None),
        ];
        for round in 0..3 {
            for (url, origin) in cases.iter().cycle().skip(round).take(cases.len() * 2) {
                let origin_of = |url| with_origin_of(url, |o| o.map(str::to_owned));
                assert_eq!(origin_of(url).as_deref(), *origin, "{url}");
                assert_eq!(origin_of(url).as_deref(), *origin, "{url} again");
            }
        }
    }

    #[test]
    fn same_origin_passes_and_others_do_not() {
        let own = OwnOrigin(Some("https://chat.example.com".into()));
        let post = Method::POST;
        assert_eq!(cross_site_reason(&own, &post, &headers(&[("origin", "https://chat.example.com")])), None);
        assert!(cross_site_reason(&own, &post, &headers(&[("origin", "https://evil.example")])).is_some());
        assert!(cross_site_reason(&own, &post, &headers(&[("origin", "null")])).is_some());
        assert!(cross_site_reason(&own, &post, &headers(&[("referer", "https://evil.example/x")])).is_some());
        assert!(cross_site_reason(&own, &post, &headers(&[("sec-fetch-site", "cross-site")])).is_some());
        assert_eq!(
            cross_site_reason(&own, &Method::GET, &headers(&[("origin", "https://evil.example")])),
            None
        );
        let by_host = OwnOrigin(None);
        assert_eq!(
            cross_site_reason(
                &by_host,
                &post,
                &headers(&[("host", "127.0.0.1:3000"), ("origin", "http://127.0.0.1:3000")])
            ),
            None
        );
        assert!(cross_site_reason(
            &by_host,
            &post,
            &headers(&[("host", "127.0.0.1:3000"), ("origin", "http://127.0.0.1:4000")])
        )
        .is_some());
        for (host, origin, passes) in [
            ("chat.example.com", "https://chat.example.com", true),
            ("chat.example.com", "https://CHAT.example.com", true),
            ("chat.example.com", "https://chat.example.com.evil.example", false),
            ("chat.example.com", "https://evil.example/chat.example.com", false),
            ("chat.example.com", "ftp://chat.example.com", false),
            ("", "http://", false),
            ("CHAT.example.com", "https://CHAT.example.com", false),
        ] {
            let reason = cross_site_reason(&by_host, &post, &headers(&[("host", host), ("origin", origin)]));
            assert_eq!(reason.is_none(), passes, "host {host:?}, origin {origin:?}");
        }
    }
}
