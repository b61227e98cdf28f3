//! What the browser may know about the signed-in user: the server functions' answer.

use serde::{Deserialize, Serialize};

/// What the browser may know about the signed-in user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    pub email: String,
    /// Whether the owner has proven the email (used its verification link).
    #[serde(default)]
    pub email_verified: bool,
}

/// What the account page shows about the signed-in account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountInfo {
    pub email: String,
    pub email_verified: bool,
    /// The day the account was made, `YYYY-MM-DD` (UTC).
    pub created_on: String,
    /// The name the account is shown by: the one chosen, or the default from the email.
    #[serde(default)]
    pub display_name: String,
    /// False for an account that signs in only through the provider or an auth proxy: it
    /// has no password to change, and confirms its deletion with its email instead.
    #[serde(default = "yes")]
    pub has_password: bool,
}

fn yes() -> bool {
    true
}

/// `POST /api/set_display_name`'s answer: the name as stored (trimmed, NFC-normalised).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisplayNameInfo {
    pub display_name: String,
}
