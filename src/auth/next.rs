//! Where to go after signing in: `next`, when it is a path on this site.

/// Where to go after signing in when no (safe) `next` is given.
pub const AFTER_LOGIN: &str = "/chat";

/// `next` is followed only when it is a path on this site: it starts with one `/`,
/// is not `//host` or `/\host`, and is plain visible ASCII.
pub fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.starts_with("/\\")
                && path.len() <= 2048
                && path.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            path
        }
        _ => AFTER_LOGIN,
    }
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
}
