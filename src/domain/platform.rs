//! [`Platform`]: which kind of client asks for a chat token, to choose its push credential.

use crate::error::AppError;

/// The longest platform name, in characters (all ASCII, so bytes too).
pub const PLATFORM_MAX_CHARS: usize = 32;

/// A platform name as `TWILIO_PUSH_CREDENTIALS` spells them: 1–32 of `a-z`, `0-9` and `-`
/// (`ios`, `ios-sandbox`, `android`). `web`, the browser's, is the default.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Platform(String);

impl Platform {
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let bad = |reason: &str| AppError::bad_input("platform", reason);
        if raw.is_empty() {
            return Err(bad("Name the platform, such as web, ios or android, or leave the field out."));
        }
        // The reasons never repeat the input: it may be anything, of any length.
        if raw.len() > PLATFORM_MAX_CHARS {
            return Err(bad("A platform name is at most 32 characters."));
        }
        if !raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
            return Err(bad("A platform name is lowercase letters a-z, digits and -."));
        }
        Ok(Platform(raw.to_string()))
    }

    /// The browser's platform, which takes `TWILIO_PUSH_CREDENTIAL_SID`.
    pub fn web() -> Self {
        Platform("web".to_string())
    }

    pub fn is_web(&self) -> bool {
        self.0 == "web"
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(raw: &str) -> String {
        let error = Platform::parse(raw).unwrap_err();
        assert_eq!(error.status(), 400);
        error.for_field("platform").unwrap_or_else(|| panic!("not about platform: {error:?}"))
    }

    #[test]
    fn names_of_lowercase_letters_digits_and_dashes_are_platforms() {
        let longest = "a".repeat(32);
        for ok in ["web", "ios", "ios-sandbox", "android", "a", "x1-2", longest.as_str()] {
            assert_eq!(Platform::parse(ok).unwrap().as_str(), ok);
        }
        assert!(Platform::parse("web").unwrap().is_web());
        assert_eq!(Platform::parse("web").unwrap(), Platform::web());
        assert!(!Platform::parse("ios").unwrap().is_web());
    }

    #[test]
    fn anything_else_is_400_on_platform_in_a_fixed_sentence() {
        let (over, huge) = ("a".repeat(33), "i".repeat(10 * 1024));
        let cases = [
            ("", "Name the platform"),
            (over.as_str(), "at most 32"),
            (huge.as_str(), "at most 32"),
            ("ïos", "lowercase letters"),
            ("日本", "lowercase letters"),
        ];
        for (bad, why) in cases {
            assert!(reason(bad).contains(why), "{bad:?}: {}", reason(bad));
        }
        for bad in [
            " ",
            " ios",
            "ios ",
            "iOS",
            "WEB",
            "ios_dev",
            "ios.dev",
            "ios,android",
            "ios\0",
            "ios\n",
            "\u{202e}soi",
            "ios=CR1",
        ] {
            // One sentence for all: nothing of the input is repeated.
            assert_eq!(reason(bad), "A platform name is lowercase letters a-z, digits and -.", "{bad:?}");
        }
    }
}
