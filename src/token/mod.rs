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
pub use access_token::{AccessToken, ChatGrant, SignedToken, SigningKey, TokenError};
pub use issued::IssuedChatToken;
#[cfg(feature = "ssr")]
pub use issuer::{Mode, TokenIssuer};

/// Issues a Twilio Access Token with a Chat grant for the signed-in user. The identity
/// is the user's stored email, taken from the session; the request carries nothing that
/// could change it. Without a session: 401.
#[server(prefix = "/api", endpoint = "chat_token")]
pub async fn chat_token() -> Result<IssuedChatToken, AppError> {
    handlers::chat_token().await
}
