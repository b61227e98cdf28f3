//! The security headers every answer carries, and the Content-Security-Policy of pages.

use axum::http::{header, HeaderMap, HeaderValue};

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

/// Puts the security headers on an answer. `https`: the public URL is https, so browsers
/// are told to keep to it. `api`: the answer of a server function, never to be cached.
/// Pages set their own CSP (with the nonce of their inline scripts); anything else gets
/// the strict default.
pub fn set_security_headers(headers: &mut HeaderMap, https: bool, api: bool) {
    if https {
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
