//! Values parsed once at the edge ("parse, don't validate"): once you hold an [`Email`]
//! or a [`Password`], it is well-formed. Neither prints its content through `Debug`.

use secrecy::{ExposeSecret, SecretString};
use unicode_normalization::UnicodeNormalization;

use crate::error::AppError;

/// Longest email we accept, in bytes (RFC 5321's path limit less the angle brackets).
pub const EMAIL_MAX_BYTES: usize = 254;
/// Password length bounds, in characters after NFKC normalisation.
pub const PASSWORD_MIN_CHARS: usize = 8;
pub const PASSWORD_MAX_CHARS: usize = 128;

/// An email address as chatpass stores it, and so the chat identity: the local part plain
/// ASCII and lowercased, the domain in its ASCII form (punycode for an internationalised
/// domain), lowercased; at most 254 bytes.
///
/// The email becomes a Twilio identity, so two spellings that read alike must not become two
/// accounts. The local part must therefore be an unquoted dot-atom of ASCII characters:
/// no quoted strings (`"victim@example.com"@evil.example`), no letters from other scripts
/// that imitate Latin ones (Cyrillic `а`, `і`), no fullwidth letters, no invisible
/// characters (zero-width space and joiners), no direction overrides, no combining marks.
/// The domain goes through IDNA (UTS #46, strict): fullwidth letters and other compatibility
/// forms fold to their ASCII letters, invisible characters that IDNA ignores vanish, and a
/// domain written in Unicode or in punycode is one domain; what IDNA forbids (direction
/// overrides among them) is refused.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

/// The characters RFC 5322 allows unquoted in a local part besides letters and digits.
const ATEXT_SPECIALS: &[u8] = b"!#$%&'*+-/=?^_`{|}~";

impl Email {
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        const NOT_AN_EMAIL: &str = "That is not an email address.";
        let bad = |reason: &str| AppError::bad_input("email", reason);
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(bad("Enter your email address."));
        }
        // Bounded before any work on it; the stored form is checked against 254 below.
        if trimmed.len() > 4 * EMAIL_MAX_BYTES {
            return Err(bad("That email address is too long (254 bytes at most)."));
        }
        let Some((local, domain)) = trimmed.rsplit_once('@') else {
            return Err(bad(NOT_AN_EMAIL));
        };
        if !local.is_ascii() {
            return Err(bad(
                "Use an address whose part before the @ is plain ASCII letters, digits and . _ + -: \
                 other characters can imitate someone else's address.",
            ));
        }
        let atext = |b: u8| b.is_ascii_alphanumeric() || ATEXT_SPECIALS.contains(&b);
        if local.len() > 64 || !local.split('.').all(|atom| !atom.is_empty() && atom.bytes().all(atext)) {
            return Err(bad(NOT_AN_EMAIL));
        }
        if domain.ends_with('.') {
            return Err(bad("That email address has no full domain."));
        }
        let domain = idna::domain_to_ascii_strict(domain)
            .map_err(|_| bad("That email address's domain is not valid."))?;
        if domain.split('.').count() < 2 || domain.split('.').any(str::is_empty) {
            return Err(bad("That email address has no full domain."));
        }
        let email = format!("{}@{domain}", local.to_ascii_lowercase());
        if email.len() > EMAIL_MAX_BYTES {
            return Err(bad("That email address is too long (254 bytes at most)."));
        }
        Ok(Email(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Email(..)")
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A password: 8 to 128 characters after NFKC normalisation (so equivalent forms log
/// in alike), no NUL, no composition rules. Kept in a [`SecretString`].
pub struct Password(SecretString);

impl Password {
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        if raw.is_empty() {
            return Err(AppError::bad_input("password", "Enter a password."));
        }
        // Bound the work before normalising: NFKC can grow a string, never past 18x.
        if raw.chars().count() > PASSWORD_MAX_CHARS * 4 {
            return Err(AppError::bad_input("password", "Passwords are 128 characters at most."));
        }
        if raw.contains('\0') {
            return Err(AppError::bad_input("password", "Passwords cannot contain NUL characters."));
        }
        let normalized: String = raw.nfkc().collect();
        let chars = normalized.chars().count();
        if chars < PASSWORD_MIN_CHARS {
            return Err(AppError::bad_input("password", "Passwords are at least 8 characters."));
        }
        if chars > PASSWORD_MAX_CHARS {
            return Err(AppError::bad_input("password", "Passwords are 128 characters at most."));
        }
        Ok(Password(SecretString::from(normalized)))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// True when the whole password is one entry of zxcvbn's list of commonly used
    /// passwords (as typed, any case). Costs a few milliseconds: call it off the async threads.
    pub fn is_common(&self) -> bool {
        use zxcvbn::matching::patterns::MatchPattern;
        let password = self.expose();
        let entropy = zxcvbn::zxcvbn(password, &[]);
        let sequence = entropy.sequence();
        sequence.len() == 1
            && matches!(
                &sequence[0].pattern,
                MatchPattern::Dictionary(d)
                    // The dictionary's type is not exported; its Debug name is stable.
                    if format!("{:?}", d.dictionary_name) == "Passwords" && !d.reversed && !d.l33t
            )
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(..)")
    }
}

/// The identity a Twilio token is issued for: the signed-in user's stored email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity(String);

impl Identity {
    /// Any non-empty string (the CLI takes identities that are not emails).
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        if raw.is_empty() {
            return Err(AppError::bad_input("identity", "The identity cannot be empty."));
        }
        Ok(Identity(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&Email> for Identity {
    fn from(email: &Email) -> Self {
        Identity(email.as_str().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lowercased() {
        assert_eq!(Email::parse("  Ann.Lee@Example.COM ").unwrap().as_str(), "ann.lee@example.com");
        assert_eq!(Email::parse("UPPER@Example.COM").unwrap(), Email::parse("upper@example.com").unwrap());
        assert_eq!(Email::parse("o'neil+chat@example.co.uk").unwrap().as_str(), "o'neil+chat@example.co.uk");
    }

    #[test]
    fn a_domain_in_unicode_and_in_punycode_is_one_domain() {
        let unicode = Email::parse("ann@Bücher.example").unwrap();
        let puny = Email::parse("ann@xn--bcher-kva.example").unwrap();
        assert_eq!(unicode, puny);
        assert_eq!(unicode.as_str(), "ann@xn--bcher-kva.example");
        // Fullwidth letters in the domain fold to ASCII: the same domain, not a look-alike.
        assert_eq!(Email::parse("ann@\u{FF45}xample.com").unwrap().as_str(), "ann@example.com");
    }

    #[test]
    fn look_alike_local_parts_are_refused() {
        for (what, raw) in [
            ("Cyrillic i", "\u{0456}van@example.com"),
            ("Cyrillic a", "\u{0430}nn@example.com"),
            ("zero-width space", "an\u{200B}n@example.com"),
            ("zero-width joiner", "an\u{200D}n@example.com"),
            ("zero-width non-joiner", "an\u{200C}n@example.com"),
            ("fullwidth letters", "\u{FF41}nn@example.com"),
            ("right-to-left override", "ann\u{202E}moc.elpmaxe@evil.example"),
            ("combining mark", "a\u{0301}nn@example.com"),
            ("quoted local part", "\"victim@example.com\"@evil.example"),
            ("quoted with spaces", "\"ann lee\"@example.com"),
            ("soft hyphen", "an\u{00AD}n@example.com"),
            ("bidi isolate", "ann\u{2067}x@example.com"),
        ] {
            let err = Email::parse(raw).unwrap_err();
            assert!(err.for_field("email").is_some(), "{what}: {raw:?} gave {err:?}");
        }
    }

    #[test]
    fn look_alike_or_broken_domains_are_refused_or_folded() {
        for (what, raw) in [
            ("right-to-left override", "ann@exa\u{202E}mple.com"),
            ("trailing dot", "ann@example.com."),
            ("empty label", "ann@example..com"),
            ("leading dot", "ann@.example.com"),
            ("a label too long", &format!("ann@{}.com", "a".repeat(64))),
        ] {
            let err = Email::parse(raw).unwrap_err();
            assert!(err.for_field("email").is_some(), "{what}: {raw:?} gave {err:?}");
        }
        // What IDNA ignores (a zero-width space) vanishes: the real domain, one account.
        assert_eq!(
            Email::parse("ann@exa\u{200B}mple.com").map(|e| e.as_str().to_string()).ok(),
            Some("ann@example.com".into())
        );
    }

    #[test]
    fn bad_emails_are_refused_with_the_field() {
        for bad in [
            "",
            "   ",
            "ann",
            "ann@",
            "@example.com",
            "ann@localhost",
            "a b@example.com",
            "ann@example.com\0",
            "ann@@example.com",
            ".ann@example.com",
            "ann.@example.com",
            "an..n@example.com",
            &format!("{}@example.com", "a".repeat(65)),
            &format!("{}@example.com", "a".repeat(300)),
            &format!("ann@{}.example.com", "a.".repeat(200)),
        ] {
            let err = Email::parse(bad).unwrap_err();
            assert!(err.for_field("email").is_some(), "{bad:?}: {err:?}");
        }
    }

    #[test]
    fn passwords_are_nfkc_normalised_and_bounded() {
        // U+FB01 (ﬁ ligature) is NFKC-equivalent to "fi".
        let a = Password::parse("con\u{FB01}dential-words").unwrap();
        let b = Password::parse("confidential-words").unwrap();
        assert_eq!(a.expose(), b.expose());
        assert!(Password::parse(&"x".repeat(7)).is_err());
        assert!(Password::parse(&"x".repeat(8)).is_ok());
        assert!(Password::parse(&"x".repeat(128)).is_ok());
        assert!(Password::parse(&"x".repeat(129)).is_err());
        assert!(Password::parse("with\0nul-inside").is_err());
        assert!(Password::parse("😀😀😀😀😀😀😀😀").is_ok());
    }

    #[test]
    fn common_passwords_are_spotted() {
        assert!(Password::parse("password1").unwrap().is_common());
        assert!(Password::parse("12345678").unwrap().is_common());
        assert!(Password::parse("iloveyou").unwrap().is_common());
        assert!(!Password::parse("correct horse battery staple").unwrap().is_common());
        assert!(!Password::parse("vq8!ZtL0#pw").unwrap().is_common());
    }

    #[test]
    fn debug_never_prints_secrets_or_emails() {
        let p = Password::parse("super-secret-pass").unwrap();
        assert!(!format!("{p:?}").contains("super"));
        let e = Email::parse("private@example.com").unwrap();
        assert!(!format!("{e:?}").contains("private"));
    }
}
