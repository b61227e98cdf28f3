//! Twilio Access Tokens: the pure encoder, issuer and inspector (server only; no IO, the
//! clock is an argument), and the `chat_token` server function the chat page calls.

use leptos::prelude::*;

use crate::error::AppError;

#[cfg(feature = "ssr")]
pub mod access_token;
#[cfg(feature = "ssr")]
mod handlers;
#[cfg(feature = "ssr")]
pub mod inspect;
mod issued;
#[cfg(feature = "ssr")]
pub mod issuer;

#[cfg(feature = "ssr")]
pub use access_token::{AccessToken, ChatGrant, SignedToken, SigningKey, Template, TokenError};
pub use issued::IssuedChatToken;
#[cfg(feature = "ssr")]
pub use issuer::{Mode, TokenIssuer};

/// The four settings that make an instance live (all of them, or none: demo mode).
pub const LIVE_SETTINGS: [&str; 4] =
    ["TWILIO_ACCOUNT_SID", "TWILIO_API_KEY", "TWILIO_API_SECRET", "TWILIO_CHAT_SERVICE_SID"];

/// Whether this instance signs demo tokens (no Twilio account configured), for pages
/// rendered on the server. Islands do not call it: in the browser it cannot know, and
/// answers `true`.
pub fn demo_instance() -> bool {
    #[cfg(feature = "ssr")]
    {
        use_context::<std::sync::Arc<TokenIssuer>>().is_none_or(|t| t.is_demo())
    }
    #[cfg(not(feature = "ssr"))]
    {
        true
    }
}

/// Issues a Twilio Access Token with a Chat grant for the signed-in user. The identity
/// is the user's stored email, taken from the session; the request carries nothing that
/// could change it. Without a session: 401.
#[server(prefix = "/api", endpoint = "chat_token")]
pub async fn chat_token() -> Result<IssuedChatToken, AppError> {
    handlers::chat_token().await
}
