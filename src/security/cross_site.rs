//! Cross-site request protection: a state-changing request is refused when the browser
//! says it is cross-site (`Sec-Fetch-Site`), or when its `Origin` (or, lacking one, its
//! `Referer`) is not this site's origin.

use axum::http::{header, HeaderMap, Method};

/// The routes apps call (natively, or from a web app on an origin in `CHATPASS_CORS_ORIGINS`):
/// the only ones that take `Authorization: Bearer`, and the only ones CORS opens. On them a
/// request with an `Authorization` header, or from a listed origin, is never signed in by a cookie.
pub const APP_ROUTES: [&str; 3] = ["/api/chat_token", "/api/device_tokens", "/api/revoke_device_token"];

/// The origin this site is served from: `CHATPASS_PUBLIC_URL` when set, else derived
/// from each request's `Host`.
#[derive(Clone, Debug)]
pub struct OwnOrigin(pub Option<String>);

/// Calls `f` with the origin `url` names (scheme, host, port; normalised), if any.
///
/// A browser sends the same `Origin` on every request, and parsing a URL is a noticeable
/// share of a signed-in request: each thread remembers its last answer, and lends it to
/// `f` rather than copying it.
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
