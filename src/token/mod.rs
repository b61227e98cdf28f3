//! Twilio Access Tokens: the `chat_token` server function the chat page calls, the
//! issuer and the encoder behind it, and the inspector (server only; the encoder and the
//! issuer do no IO, and the clock is an argument).
//!
//! Reading order: `chat_token.rs` (session to identity), `issuer.rs` (settings to a
//! signing key), `access_token.rs` (the token's bytes).

#[cfg(feature = "ssr")]
pub mod access_token;
mod chat_token;
#[cfg(feature = "ssr")]
pub mod inspect;
#[cfg(feature = "ssr")]
pub mod issuer;
mod platform_field;

#[cfg(feature = "ssr")]
pub use access_token::{AccessToken, ChatGrant, SignedToken, SigningKey, TokenError};
pub use chat_token::{chat_token, ChatToken, IssuedChatToken};
#[cfg(feature = "ssr")]
pub use issuer::{Mode, TokenIssuer};
pub use platform_field::PlatformField;

/// The four settings that make an instance live (all of them, or none: demo mode).
pub const LIVE_SETTINGS: [&str; 4] =
    ["TWILIO_ACCOUNT_SID", "TWILIO_API_KEY", "TWILIO_API_SECRET", "TWILIO_CHAT_SERVICE_SID"];

/// Whether this instance signs demo tokens (no Twilio account configured), for pages
/// rendered on the server. Islands do not call it: in the browser it cannot know, and
/// answers `true`.
pub fn demo_instance() -> bool {
    #[cfg(feature = "ssr")]
    {
        leptos::prelude::use_context::<std::sync::Arc<TokenIssuer>>().is_none_or(|t| t.is_demo())
    }
    #[cfg(not(feature = "ssr"))]
    {
        true
    }
}
