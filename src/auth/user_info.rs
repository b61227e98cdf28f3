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
