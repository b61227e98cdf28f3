//! A `User-Agent` header in coarse words ("Firefox on Linux", "Chrome on Android"): enough
//! for people to tell their own browsers apart in a list, and all that is stored of it.

/// What a header that names no browser we know says.
pub const UNKNOWN: &str = "an app or unknown browser";

/// Browsers by a token of their header, first match wins: Edge, Opera and Samsung
/// Internet also say "Chrome", and Chrome also says "Safari".
const BROWSERS: &[(&str, &str)] = &[
    ("Edg/", "Edge"),
    ("EdgA/", "Edge"),
    ("EdgiOS/", "Edge"),
    ("OPR/", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("CriOS/", "Chrome"),
    ("Safari/", "Safari"),
];

/// Systems likewise: Android also says "Linux", iOS "like Mac OS X", ChromeOS "X11".
const SYSTEMS: &[(&str, &str)] = &[
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("iPod", "iOS"),
    ("CrOS", "ChromeOS"),
    ("Windows", "Windows"),
    ("Macintosh", "macOS"),
    ("Linux", "Linux"),
];

fn first_of(table: &[(&str, &'static str)], header: &str) -> Option<&'static str> {
    table.iter().find(|(token, _)| header.contains(token)).map(|(_, name)| *name)
}

/// The browser and system `header` names, in words.
pub fn describe(header: &str) -> String {
    match (first_of(BROWSERS, header), first_of(SYSTEMS, header)) {
        (Some(browser), Some(system)) => format!("{browser} on {system}"),
        (Some(browser), None) => browser.to_string(),
        (None, _) => UNKNOWN.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_browsers_are_named_with_their_system() {
        let cases = [
            ("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox on Linux"),
            (
                "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
                "Chrome on Android",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
                "Edge on Windows",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
                "Safari on macOS",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
                "Safari on iOS",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
                "Chrome on iOS",
            ),
            (
                "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
                "Chrome on ChromeOS",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 OPR/115.0.0.0",
                "Opera on Windows",
            ),
        ];
        for (header, words) in cases {
            assert_eq!(describe(header), words, "{header}");
        }
    }

    #[test]
    fn apps_tools_and_nothing_at_all_are_unknown() {
        for header in [
            "",
            "curl/8.11.0",
            "okhttp/4.12.0",
            // An app's web view on iOS names no browser.
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
            "<script>alert(1)</script>",
        ] {
            assert_eq!(describe(header), UNKNOWN, "{header}");
        }
    }

    #[test]
    fn only_the_fixed_words_come_out() {
        let header = "Firefox/1.0 (Linux; '); DROP TABLE users; --) \u{202e}evil";
        assert_eq!(describe(header), "Firefox on Linux");
    }
}
