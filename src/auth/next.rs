//! Where to go after signing in: `next`, when it is a path on this site.

use std::borrow::Cow;

/// Where to go after signing in when no (safe) `next` is given.
pub const AFTER_LOGIN: &str = "/chat";

/// `next` is followed only when it is a path on this site: it starts with one `/`,
/// is not `//host` or `/\host`, and is plain visible ASCII. Its query loses every key
/// only the server writes (a returned form error's `__path`, `__err`, `__t`, `__sig`:
/// any key that decodes to one starting with `__`); the rest stays as it was written.
pub fn safe_next(next: Option<&str>) -> Cow<'_, str> {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.starts_with("/\\")
                && path.len() <= 2048
                && path.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            without_reserved_keys(path)
        }
        _ => Cow::Borrowed(AFTER_LOGIN),
    }
}

fn without_reserved_keys(path: &str) -> Cow<'_, str> {
    let Some((before, query)) = path.split_once('?') else {
        return Cow::Borrowed(path);
    };
    let (query, fragment) = match query.split_once('#') {
        Some((query, fragment)) => (query, Some(fragment)),
        None => (query, None),
    };
    if !query.split('&').any(is_reserved) {
        return Cow::Borrowed(path);
    }
    let kept: Vec<&str> = query.split('&').filter(|pair| !pair.is_empty() && !is_reserved(pair)).collect();
    let mut out = before.to_string();
    if !kept.is_empty() {
        out.push('?');
        out.push_str(&kept.join("&"));
    }
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    Cow::Owned(out)
}

/// Whether the key of one `key=value` pair is reserved: it starts with `__` as written or
/// decoded (`%5F%5Ferr` is `__err` to the page's router), also after a few more rounds of
/// decoding (`%255F%255Ferr`): dropping a key too many costs nothing.
fn is_reserved(pair: &str) -> bool {
    let mut key = pair.split_once('=').map_or(pair, |(key, _)| key).as_bytes().to_vec();
    for _ in 0..3 {
        if key.starts_with(b"__") {
            return true;
        }
        key = percent_decoded(&key);
    }
    key.starts_with(b"__")
}

/// `%XX` as the byte it stands for and `+` as a space, as a form's query is decoded.
fn percent_decoded(text: &[u8]) -> Vec<u8> {
    let hex = |b: u8| char::from(b).to_digit(16);
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        match (text[i], text.get(i + 1).copied().and_then(hex), text.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                i += 3;
            }
            (b'+', ..) => {
                out.push(b' ');
                i += 1;
            }
            (byte, ..) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_followed_only_within_the_site() {
        assert_eq!(safe_next(Some("/chat")), "/chat");
        assert_eq!(safe_next(Some("/chat?room=a")), "/chat?room=a");
        for bad in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "chat",
            "",
            "/ch at",
            "/caf\u{e9}",
            "javascript:alert(1)",
        ] {
            assert_eq!(safe_next(Some(bad)), AFTER_LOGIN, "{bad:?}");
        }
        assert_eq!(safe_next(None), AFTER_LOGIN);
        assert_eq!(AFTER_LOGIN, "/chat");
    }

    #[test]
    fn next_loses_the_keys_only_the_server_writes_in_any_spelling() {
        let cases = [
            ("/login?__err=e30=&__path=/api/login", "/login"),
            ("/login?next=/chat&__err=e30=&room=a%20b&__sig=00&__t=1", "/login?next=/chat&room=a%20b"),
            ("/login?%5F%5Ferr=x&%5f%5fpath=%2Fapi&%5F_sig=0&_%5Ft=1", "/login"),
            ("/login?%255F%255Ferr=x&keep=1", "/login?keep=1"),
            ("/login?__err&__sig=&__=1&__anything=2&a=1", "/login?a=1"),
            ("/chat?room=a&__err=x#bottom", "/chat?room=a#bottom"),
            ("/chat?__err=x#__err=y", "/chat#__err=y"),
            ("/chat?a=1&&__err=x&b=2", "/chat?a=1&b=2"),
        ];
        for (next, expected) in cases {
            assert_eq!(safe_next(Some(next)), expected, "{next}");
        }
    }

    #[test]
    fn keys_that_only_look_reserved_and_plain_paths_are_kept_as_written() {
        for next in [
            "/chat?_err=1&a__b=2&%5Ferr=3&x=__err",
            "/chat?%ZZ=1&%5=2&%=3",
            "/chat?room=a+b&empty=&&",
            "/chat?",
            "/account#__err",
            "/_/__err",
        ] {
            assert!(matches!(safe_next(Some(next)), Cow::Borrowed(p) if p == next), "{next}");
        }
    }

    #[test]
    fn percent_decoding_reads_form_escapes_and_leaves_broken_ones() {
        assert_eq!(percent_decoded(b"%5F%5f+a%2"), b"__ a%2");
        assert_eq!(percent_decoded(b"%C3%A9%"), "\u{e9}%".as_bytes());
        assert_eq!(percent_decoded(b""), b"");
    }
}
