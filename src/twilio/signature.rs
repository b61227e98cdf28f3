//! Twilio's webhook signature (`X-Twilio-Signature`), as its helper libraries compute it:
//! base64 of HMAC-SHA1, keyed by the account's Auth Token, over the URL Twilio called
//! followed by every form parameter's name and value, sorted by name (a name's several
//! values sorted too). Pure: bytes in, a yes or no out.

use base64::{engine::general_purpose::STANDARD, Engine as _};
use hmac::{Hmac, Mac};
use sha1::Sha1;

type HmacSha1 = Hmac<Sha1>;

/// A form body's parameters, percent-decoded but not yet UTF-8: the signature covers the
/// bytes Twilio sent, and only a signed body is read further.
pub type RawParams = Vec<(Vec<u8>, Vec<u8>)>;

/// `application/x-www-form-urlencoded` into name/value byte pairs (`+` is a space).
pub fn parse_form(body: &[u8]) -> RawParams {
    body.split(|b| *b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = match pair.iter().position(|b| *b == b'=') {
                Some(at) => (&pair[..at], &pair[at + 1..]),
                None => (pair, &[][..]),
            };
            (decode(name), decode(value))
        })
        .collect()
}

fn decode(part: &[u8]) -> Vec<u8> {
    let spaced: Vec<u8> = part.iter().map(|b| if *b == b'+' { b' ' } else { *b }).collect();
    percent_encoding::percent_decode(&spaced).collect()
}

/// What Twilio signs: `url`, then each name and value, sorted by name, then by value.
fn signed_text(url: &str, params: &RawParams) -> Vec<u8> {
    let mut sorted: Vec<&(Vec<u8>, Vec<u8>)> = params.iter().collect();
    // By bytes: UTF-8's byte order is code-point order, twilio-python's. (twilio-node sorts
    // by UTF-16 code unit: the two differ where U+E000..=U+FFFF meets an emoji.)
    sorted.sort();
    // A name sent twice with one value counts once (twilio-python: `sorted(set(values))`).
    sorted.dedup();
    let mut text = url.as_bytes().to_vec();
    for (name, value) in sorted {
        text.extend_from_slice(name);
        text.extend_from_slice(value);
    }
    text
}

/// The signature Twilio sends for `url` and `params`, keyed by `auth_token`.
pub fn expected(auth_token: &str, url: &str, params: &RawParams) -> String {
    STANDARD.encode(mac(auth_token, url, params).finalize().into_bytes())
}

fn mac(auth_token: &str, url: &str, params: &RawParams) -> HmacSha1 {
    let mut mac = HmacSha1::new_from_slice(auth_token.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(&signed_text(url, params));
    mac
}

/// Whether `signature` is Twilio's for `url` and `params`, compared in constant time. The
/// URL counts as given, without its port and, if it has none, with its scheme's default one
/// (`:443`, `:80`): the URLs twilio-python's and twilio-node's validators try, as Twilio's
/// servers have signed with and without the port.
pub fn is_valid(auth_token: &str, url: &str, params: &RawParams, signature: &str) -> bool {
    let Ok(given) = STANDARD.decode(signature) else {
        return false;
    };
    let mut valid = false;
    for candidate in port_variants(url) {
        // Every candidate is checked (no early exit), each in constant time.
        valid |= mac(auth_token, &candidate, params).verify_slice(&given).is_ok();
    }
    valid
}

/// `url` as given, without its port, and with the default port if it has none. The URL is
/// split as written, not parsed: the signature covers its text (its host's case, its
/// Unicode), so the variants are that text with only the port changed.
fn port_variants(url: &str) -> Vec<String> {
    let mut variants = vec![url.to_string()];
    let Some((scheme, after)) = url.split_once("://") else {
        return variants;
    };
    let (authority, rest) = after.split_at(after.find(['/', '?', '#']).unwrap_or(after.len()));
    let (user, host_port) = authority.split_at(authority.rfind('@').map_or(0, |at| at + 1));
    // A colon starts the port only after an IPv6 literal's closing bracket.
    let after_bracket = host_port.rfind(']').map_or(0, |at| at + 1);
    let (host, port) = host_port
        .split_at(host_port[after_bracket..].find(':').map_or(host_port.len(), |at| after_bracket + at));
    let default = if scheme.eq_ignore_ascii_case("https") { ":443" } else { ":80" };
    let mut candidates = vec![format!("{scheme}://{user}{host}{rest}")];
    if port.is_empty() {
        candidates.push(format!("{scheme}://{user}{host}{default}{rest}"));
    }
    for variant in candidates {
        if !variants.contains(&variant) {
            variants.push(variant);
        }
    }
    variants
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Twilio's documented example (its "webhooks security" page): this URL, these
    /// parameters and this token sign to this value.
    #[test]
    fn twilios_documented_example() {
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let params = parse_form(
            b"CallSid=CA1234567890ABCDE&Caller=%2B12349013030&Digits=1234&From=%2B12349013030&To=%2B18005551212",
        );
        let token = "12345";
        assert_eq!(expected(token, url, &params), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
        assert!(is_valid(token, url, &params, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
        assert!(!is_valid(token, url, &params, "0/KCTR6DLpKmkAf8muzZqo1nDgQ"));
        assert!(!is_valid(token, url, &params, " 0/KCTR6DLpKmkAf8muzZqo1nDgQ= "));
        assert!(!is_valid("12346", url, &params, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
    }

    #[test]
    fn a_url_counts_without_its_port_and_with_the_default_one_if_it_has_none() {
        let params = parse_form(b"A=1");
        let signed = expected("t", "https://example.com:443/hook", &params);
        assert!(is_valid("t", "https://example.com/hook", &params, &signed));
        assert!(!is_valid("t", "https://example.com:8443/hook", &params, &signed));
        let signed = expected("t", "https://example.com/hook", &params);
        assert!(is_valid("t", "https://example.com:443/hook", &params, &signed));
        assert!(is_valid("t", "https://example.com:8443/hook", &params, &signed));
        assert!(!is_valid("t", "http://example.com/hook", &params, &signed));
        let signed = expected("t", "https://Bücher.example/hook", &params);
        assert!(is_valid("t", "https://Bücher.example:443/hook", &params, &signed));
        let signed = expected("t", "http://[::1]/hook?a=1", &params);
        assert!(is_valid("t", "http://[::1]:80/hook?a=1", &params, &signed));
        assert!(is_valid("t", "http://[::1]:8080/hook?a=1", &params, &signed));
    }

    #[test]
    fn forms_decode_plus_and_percent_and_keep_bytes_that_are_not_utf8() {
        let params = parse_form(b"a=b+c&d=%FF%00&e&=x&&f=%zz");
        assert_eq!(
            params,
            vec![
                (b"a".to_vec(), b"b c".to_vec()),
                (b"d".to_vec(), vec![0xff, 0]),
                (b"e".to_vec(), vec![]),
                (vec![], b"x".to_vec()),
                (b"f".to_vec(), b"%zz".to_vec()),
            ]
        );
    }
}
