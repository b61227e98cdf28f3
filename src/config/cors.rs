//! `CHATPASS_CORS_ORIGINS`: the web origins, besides chatpass's own, that may call its
//! token routes from a browser. Exact origins only: a wildcard or a pattern would let a
//! look-alike domain in, and `null` is what sandboxed frames and local files send.

use super::parse::ConfigError;

const VAR: &str = "CHATPASS_CORS_ORIGINS";

/// The listed origins, each as a browser writes its `Origin` header
/// (`https://app.example.com`, `http://localhost:5173`). Empty: no CORS (the default).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorsOrigins(Vec<String>);

impl CorsOrigins {
    /// Origins separated by commas (spaces around them are fine); unset or empty: none.
    pub fn parse(raw: &str) -> Result<Self, ConfigError> {
        let mut origins: Vec<String> = Vec::new();
        if raw.trim().is_empty() {
            return Ok(Self(origins));
        }
        for (at, entry) in raw.split(',').map(str::trim).enumerate() {
            let origin = parse_origin(at + 1, entry)?;
            // Two spellings of one origin (`HTTPS://A.example`, `https://a.example:443`) are one.
            if !origins.contains(&origin) {
                origins.push(origin);
            }
        }
        Ok(Self(origins))
    }

    /// Whether `origin`, an `Origin` header's value as sent, is listed: exact match, since
    /// browsers send the serialised form the list holds.
    pub fn contains(&self, origin: &str) -> bool {
        self.0.iter().any(|listed| listed == origin)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn to_vec(&self) -> Vec<String> {
        self.0.clone()
    }
}

/// One origin: `http` or `https`, a host, an optional port, at most a trailing `/`; kept
/// as `url`'s ASCII serialisation (lowercase, punycode, no default port).
fn parse_origin(n: usize, entry: &str) -> Result<String, ConfigError> {
    let bad = |why: &str| ConfigError::new(VAR, format!("entry {n} {why}"));
    if entry.is_empty() {
        return Err(bad("is empty; remove the extra comma"));
    }
    if entry.eq_ignore_ascii_case("null") {
        return Err(bad("is null, which any sandboxed page can send; list real origins only"));
    }
    if entry.contains('*') {
        return Err(bad("has a *; list each origin exactly (https://app.example.com)"));
    }
    let url = url::Url::parse(entry)
        .map_err(|e| bad(&format!("is not an origin like https://app.example.com ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(bad("must be an http:// or https:// origin with a host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("has a user name or password; an origin is only scheme, host and port"));
    }
    // What follows the host and port, as written: `url` would quietly resolve `/.` or `\`.
    let after_scheme = entry.split_once("://").map_or("", |(_, rest)| rest);
    let tail = after_scheme.find(['/', '\\', '?', '#']).map_or("", |at| &after_scheme[at..]);
    if !tail.is_empty() && tail != "/" {
        return Err(bad("has a path, query or fragment; an origin is only scheme, host and port"));
    }
    Ok(url.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Vec<String> {
        CorsOrigins::parse(raw).unwrap().to_vec()
    }

    #[test]
    fn origins_are_kept_as_browsers_send_them() {
        assert!(CorsOrigins::parse("").unwrap().is_empty());
        assert!(CorsOrigins::parse("  ").unwrap().is_empty());
        assert_eq!(parse("HTTPS://App.Example.com:443"), ["https://app.example.com"]);
        assert_eq!(parse("https://app.example.com/"), ["https://app.example.com"]);
        assert_eq!(parse("http://localhost:5173"), ["http://localhost:5173"]);
        assert_eq!(parse("http://[::1]:8080, http://127.0.0.1"), ["http://[::1]:8080", "http://127.0.0.1"]);
        assert_eq!(parse("https://bücher.example"), ["https://xn--bcher-kva.example"]);
        assert_eq!(
            parse("https://a.example,https://A.example:443/,http://a.example"),
            ["https://a.example", "http://a.example"]
        );
    }

    #[test]
    fn contains_is_an_exact_match_on_the_normalised_list() {
        let origins = CorsOrigins::parse("HTTPS://App.Example.com, http://localhost:5173").unwrap();
        assert!(origins.contains("https://app.example.com"));
        assert!(origins.contains("http://localhost:5173"));
        for no in [
            "https://App.Example.com",
            "https://app.example.com/",
            "https://app.example.com:443",
            "http://app.example.com",
            "https://evil-app.example.com",
            "https://app.example.com.evil.example",
            "http://localhost",
            "null",
            "",
        ] {
            assert!(!origins.contains(no), "{no:?}");
        }
        assert!(!CorsOrigins::default().contains("https://app.example.com"));
    }

    #[test]
    fn anything_but_an_origin_names_the_variable_and_says_why() {
        let cases = [
            ("null", "null"),
            ("NULL", "null"),
            ("https://a.example,null", "null"),
            ("*", "*"),
            ("https://*.example.com", "*"),
            ("https://a.example,,https://b.example", "empty"),
            ("https://a.example,", "empty"),
            ("app.example.com", "not an origin"),
            ("//app.example.com", "not an origin"),
            ("https://", "not an origin"),
            ("ftp://app.example.com", "http:// or https://"),
            ("file:///etc/passwd", "http:// or https://"),
            ("chrome-extension://abcdef", "http:// or https://"),
            ("https://user:pw@app.example.com", "user name or password"),
            ("https://user@app.example.com", "user name or password"),
            ("https://app.example.com/app", "path"),
            ("https://app.example.com//", "path"),
            ("https://app.example.com/.", "path"),
            ("https://app.example.com\\", "path"),
            ("https://app.example.com?", "path, query"),
            ("https://app.example.com/?x=1", "path, query"),
            ("https://app.example.com#top", "fragment"),
            ("https://app.example.com:99999", "not an origin"),
        ];
        for (raw, why) in cases {
            let error = CorsOrigins::parse(raw).unwrap_err();
            assert_eq!(error.var, VAR, "{raw}");
            assert!(error.reason.contains(why), "{raw}: {error}");
        }
    }
}
