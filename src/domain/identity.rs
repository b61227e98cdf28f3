//! [`Identity`]: whom a Twilio token is issued for.

use super::email::Email;
use crate::error::AppError;

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
