//! The answer of `POST /api/chat_token`, as the chat page receives it.

use serde::{Deserialize, Serialize};

/// What `POST /api/chat_token` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedChatToken {
    /// The signed JWT, for `new Twilio.Conversations.Client(token)`.
    pub token: String,
    /// The token's `grants.identity`: the signed-in user's email, or their opaque id
    /// with `CHATPASS_CHAT_IDENTITY=user-id`.
    pub identity: String,
    /// The signed-in user's email, from the account (not from the token).
    pub email: String,
    /// The name the signed-in user is shown by: the one they chose, or the default from
    /// their email (its local part). From the account, read with the session.
    #[serde(default)]
    pub display_name: String,
    /// Seconds since the epoch when the token was issued (`iat`).
    pub issued_at: u64,
    /// Seconds since the epoch when the token expires (`exp`).
    pub expires_at: u64,
    /// Lifetime in seconds.
    pub ttl: u32,
    /// The Conversations service the Chat grant is for.
    pub service_sid: String,
    /// Twilio region (`twr`), when one is configured.
    pub region: Option<String>,
    /// True in demo mode: Twilio will refuse this token.
    pub demo: bool,
}
