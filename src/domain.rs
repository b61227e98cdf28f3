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

/// An email address: trimmed, lowercased, at most 254 bytes, syntax checked by the
/// `email_address` crate. The lowercased form is the user's identity everywhere.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(AppError::bad_input("email", "Enter your email address."));
        }
        if trimmed.len() > EMAIL_MAX_BYTES {
            return Err(AppError::bad_input("email", "That email address is too long (254 bytes at most)."));
        }
        if trimmed.chars().any(char::is_control) {
            return Err(AppError::bad_input("email", "That is not an email address."));
        }
        let lower = trimmed.to_lowercase();
        let parsed = email_address::EmailAddress::parse_with_options(
            &lower,
            email_address::Options::default().without_display_text().without_domain_literal(),
        )
        .map_err(|_| AppError::bad_input("email", "That is not an email address."))?;
        let domain = parsed.domain();
        if !domain.contains('.') || domain.ends_with('.') {
            return Err(AppError::bad_input("email", "That email address has no full domain."));
        }
        Ok(Email(parsed.email().to_string()))
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
            &format!("{}@example.com", "a".repeat(300)),
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
