//! The error a form posted without JavaScript carries back to its page in the URL
//! (`?__path=…&__err=…`, server_fn's redirect to the referer). The server signs only that
//! redirect, for the page it leads to, the endpoint, the error and the time (`__t`,
//! `__sig`); a page shows an error only under a fresh signature for itself. A success
//! redirect is never signed, so a link (or a `next`) cannot put words on a page.

use base64::{
    engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD},
    Engine,
};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The query keys of a returned error: the endpoint, the error (base64url JSON), when it
/// was signed (Unix seconds) and the signature.
pub const ENDPOINT: &str = "__path";
pub const ERROR: &str = "__err";
pub const SIGNED_AT: &str = "__t";
pub const SIGNATURE: &str = "__sig";

/// How long a signed error is shown: time to load the page after the redirect, and then
/// some; a copied link stops working soon after.
pub const FRESH_FOR: u64 = 10 * 60;

/// How far in the future a signing time may be (the wall clock can step back).
const CLOCK_STEP: u64 = 60;

/// Query keys only the server writes (`__path`, `__err`, `__t`, `__sig` and any other
/// `__` key): a page's own query never needs one. `key` as decoded.
pub fn is_reserved(key: &str) -> bool {
    key.starts_with("__")
}

/// Random per process: a signature from another process (or an older one) is not ours.
fn key() -> &'static [u8; 32] {
    static KEY: std::sync::OnceLock<[u8; 32]> = std::sync::OnceLock::new();
    KEY.get_or_init(|| {
        use rand::RngCore;
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        key
    })
}

/// The MAC over the four things a returned error is bound to, each length-prefixed so no
/// two different sets of them are the same bytes.
fn mac(page: &str, endpoint: &str, error: &str, signed_at: u64) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key()).expect("any key length");
    mac.update(b"chatpass form error\0");
    for part in [page, endpoint, error] {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part.as_bytes());
    }
    mac.update(&signed_at.to_be_bytes());
    mac
}

/// The signature (`__sig`) of `error` (the `__err` value) from `endpoint`, shown on the
/// page at `page` (its path), signed at `signed_at`.
pub fn sign(page: &str, endpoint: &str, error: &str, signed_at: u64) -> String {
    URL_SAFE_NO_PAD.encode(mac(page, endpoint, error, signed_at).finalize().into_bytes())
}

/// Whether the page at `page` may show `error` from `endpoint` at `now`: `signature` is
/// this server's for all of them and `signed_at`, which is at most [`FRESH_FOR`] old.
pub fn is_ours(page: &str, endpoint: &str, error: &str, signed_at: &str, signature: &str, now: u64) -> bool {
    // Digits only: `+5` and `05` would parse too, and then one signature had many spellings.
    if signed_at.is_empty() || signed_at.starts_with('0') || !signed_at.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let (Ok(signed_at), Ok(bytes)) = (signed_at.parse::<u64>(), URL_SAFE_NO_PAD.decode(signature)) else {
        return false;
    };
    let fresh = signed_at <= now.saturating_add(CLOCK_STEP) && now.saturating_sub(signed_at) <= FRESH_FOR;
    fresh && mac(page, endpoint, error, signed_at).verify_slice(&bytes).is_ok()
}

/// server_fn's no-JavaScript error redirect, signed: `location` is the referer with
/// `__path=endpoint&__err=…` appended, where `__err` is `body` (the error's JSON) in
/// base64url. Anything else is not that redirect (None). The answer keeps the referer's
/// own query as it was written, without the reserved keys a link put there, and ends with
/// exactly one `__path`, `__err`, `__t` and `__sig`.
pub fn sign_error_redirect(location: &str, endpoint: &str, body: &[u8], now: u64) -> Option<String> {
    let url = url::Url::parse(location).ok()?;
    let segments: Vec<&str> = url.query()?.split('&').collect();
    let (own, appended) = segments.split_at(segments.len().checked_sub(2)?);
    let error = URL_SAFE.encode(body);
    if decoded(appended[0]) != (ENDPOINT.into(), endpoint.into())
        || decoded(appended[1]) != (ERROR.into(), error.clone())
    {
        return None;
    }
    let page = url.path();
    let mut out = format!("{}{page}?", &url[..url::Position::BeforePath]);
    for segment in own.iter().filter(|s| !s.is_empty() && !is_reserved(&decoded(s).0)) {
        out.push_str(segment);
        out.push('&');
    }
    let encoded = |value: &str| url::form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>();
    let signature = sign(page, endpoint, &error, now);
    out.push_str(&format!(
        "{ENDPOINT}={}&{ERROR}={}&{SIGNED_AT}={now}&{SIGNATURE}={signature}",
        encoded(endpoint),
        encoded(&error)
    ));
    Some(out)
}

/// One `key=value` segment of a query, decoded as a page's router decodes it.
fn decoded(segment: &str) -> (String, String) {
    url::form_urlencoded::parse(segment.as_bytes())
        .next()
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"error":"bad_credentials"}"#;
    const NOW: u64 = 1_800_000_000;

    /// server_fn's error redirect from the page `referer`.
    fn redirect(referer: &str) -> String {
        let mut url = url::Url::parse(referer).unwrap();
        url.query_pairs_mut().append_pair(ENDPOINT, "/api/login").append_pair(ERROR, &URL_SAFE.encode(BODY));
        url.to_string()
    }

    fn query_of(location: &str) -> Vec<(String, String)> {
        url::Url::parse(location)
            .unwrap()
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    fn value<'a>(pairs: &'a [(String, String)], key: &str) -> &'a str {
        &pairs.iter().find(|(k, _)| k == key).unwrap().1
    }

    #[test]
    fn the_error_redirect_is_signed_for_its_page_endpoint_error_and_time() {
        let signed =
            sign_error_redirect(&redirect("http://x.test/login?next=/chat"), "/api/login", BODY, NOW)
                .unwrap();
        assert!(
            signed.starts_with("http://x.test/login?next=/chat&__path=%2Fapi%2Flogin&__err="),
            "{signed}"
        );
        let q = query_of(&signed);
        let (error, t, sig) = (value(&q, ERROR), value(&q, SIGNED_AT), value(&q, SIGNATURE));
        assert_eq!(t, NOW.to_string());
        assert!(is_ours("/login", "/api/login", error, t, sig, NOW));
        assert!(is_ours("/login", "/api/login", error, t, sig, NOW + FRESH_FOR));
        assert!(!is_ours("/signup", "/api/login", error, t, sig, NOW), "another page");
        assert!(!is_ours("/login/", "/api/login", error, t, sig, NOW), "another page");
        assert!(!is_ours("/login", "/api/signup", error, t, sig, NOW), "another endpoint");
        assert!(!is_ours("/login", "/api/login", &URL_SAFE.encode(b"{}"), t, sig, NOW), "another error");
        assert!(!is_ours("/login", "/api/login", error, &(NOW + 1).to_string(), sig, NOW), "another time");
        for spelling in [format!("+{t}"), format!("0{t}"), format!("{t} ")] {
            assert!(!is_ours("/login", "/api/login", error, &spelling, sig, NOW), "{spelling:?}");
        }
        assert!(!is_ours("/login", "/api/login", error, t, &sig[..sig.len() - 1], NOW), "cut short");
        assert!(!is_ours("/login", "/api/login", error, t, "", NOW));
        assert!(!is_ours("/login", "/api/login", error, "", sig, NOW));
    }

    #[test]
    fn a_signature_older_than_fresh_for_or_from_the_future_is_refused() {
        let t = NOW.to_string();
        let sig = sign("/login", "/api/login", "e", NOW);
        assert!(is_ours("/login", "/api/login", "e", &t, &sig, NOW + FRESH_FOR));
        assert!(!is_ours("/login", "/api/login", "e", &t, &sig, NOW + FRESH_FOR + 1), "expired");
        assert!(!is_ours("/login", "/api/login", "e", &t, &sig, u64::MAX), "long expired");
        assert!(is_ours("/login", "/api/login", "e", &t, &sig, NOW - CLOCK_STEP), "a clock stepped back");
        assert!(!is_ours("/login", "/api/login", "e", &t, &sig, NOW - CLOCK_STEP - 1), "from the future");
    }

    #[test]
    fn reserved_keys_of_the_referer_are_dropped_in_any_spelling_and_the_rest_kept_as_written() {
        // A page whose address carried a forged error: server_fn appends its own after it.
        let referer = "http://x.test/reset?token=a%20b&__err=forged&%5F%5Fsig=00&%5f_t=1&__x=1&room=%C3%A9&__path=/api/x";
        let signed = sign_error_redirect(&redirect(referer), "/api/login", BODY, NOW).unwrap();
        assert!(signed.starts_with("http://x.test/reset?token=a%20b&room=%C3%A9&__path="), "{signed}");
        let q = query_of(&signed);
        assert_eq!(q.iter().filter(|(k, _)| is_reserved(k)).count(), 4, "{signed}");
        assert_eq!(value(&q, ERROR), URL_SAFE.encode(BODY));
        let signed = sign_error_redirect(&redirect("http://x.test/"), "/api/login", BODY, NOW).unwrap();
        assert!(signed.starts_with("http://x.test/?__path=%2Fapi%2Flogin&__err="), "{signed}");
    }

    #[test]
    fn only_server_fns_own_error_redirect_is_signed() {
        let genuine = redirect("http://x.test/login");
        assert!(sign_error_redirect(&genuine, "/api/login", BODY, NOW).is_some());
        assert_eq!(sign_error_redirect(&genuine, "/api/signup", BODY, NOW), None, "another endpoint");
        assert_eq!(sign_error_redirect(&genuine, "/api/login", b"{}", NOW), None, "another error");
        let err = URL_SAFE.encode(BODY);
        for location in [
            "/login?__path=%2Fapi%2Flogin&__err=".to_string() + &err,
            format!("http://x.test/login?__err={err}&__path=%2Fapi%2Flogin"),
            format!("http://x.test/login?__path=%2Fapi%2Flogin&__err={err}&next=/chat"),
            "http://x.test/login".to_string(),
            "http://x.test/login?next=/chat".to_string(),
        ] {
            assert_eq!(sign_error_redirect(&location, "/api/login", BODY, NOW), None, "{location}");
        }
    }
}
