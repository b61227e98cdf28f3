//! [`Password`]: NFKC-normalised, bounded, kept secret.

use secrecy::{ExposeSecret, SecretString};
use unicode_normalization::UnicodeNormalization;

use crate::error::AppError;

/// Password length bounds, in characters after NFKC normalisation.
pub const PASSWORD_MIN_CHARS: usize = 8;
pub const PASSWORD_MAX_CHARS: usize = 128;

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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn debug_never_prints_a_password() {
        let p = Password::parse("super-secret-pass").unwrap();
        assert!(!format!("{p:?}").contains("super"));
    }
}
