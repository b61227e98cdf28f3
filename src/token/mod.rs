//! Twilio Access Tokens: the pure encoder and inspector (server only), and the
//! `chat_token` server function the chat page calls.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[cfg(feature = "ssr")]
pub mod access_token;
#[cfg(feature = "ssr")]
pub mod inspect;
#[cfg(feature = "ssr")]
pub mod issuer;

#[cfg(feature = "ssr")]
pub use access_token::{AccessToken, ChatGrant, SignedToken, SigningKey, TokenError};
#[cfg(feature = "ssr")]
pub use issuer::TokenIssuer;

/// What `POST /api/chat_token` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedChatToken {
    /// The signed JWT, for `new Twilio.Conversations.Client(token)`.
    pub token: String,
    /// The signed-in user's email: the token's `grants.identity`.
    pub identity: String,
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

/// Issues a Twilio Access Token with a Chat grant for the signed-in user. The identity
/// is the user's stored email, taken from the session; the request carries nothing that
/// could change it. Without a session: 401.
#[server(prefix = "/api", endpoint = "chat_token")]
pub async fn chat_token() -> Result<IssuedChatToken, AppError> {
    server::chat_token().await
}

#[cfg(feature = "ssr")]
mod server {
    use std::time::{SystemTime, UNIX_EPOCH};

    use super::IssuedChatToken;
    use crate::{auth::backend::AuthSession, domain::Identity, error::AppError, server::AppState};

    pub async fn chat_token() -> Result<IssuedChatToken, AppError> {
        let state = leptos::prelude::use_context::<AppState>().ok_or(AppError::Internal)?;
        let auth = leptos_axum::extract::<AuthSession>().await.map_err(|_| AppError::Internal)?;
        let Some(user) = auth.user else {
            return Err(AppError::NotSignedIn);
        };
        let identity = Identity::parse(&user.email)?;
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_err(|_| AppError::Internal)?.as_secs();
        let issuer = &state.tokens;
        let signed = issuer.issue(identity.as_str(), now).map_err(|e| {
            tracing::error!(error = %e, "token signing failed");
            AppError::Internal
        })?;
        tracing::info!(
            user.id = user.id,
            identity = identity.as_str(),
            jti = %signed.jti,
            exp = signed.exp,
            demo = issuer.demo,
            "chat token issued"
        );
        Ok(IssuedChatToken {
            token: signed.jwt,
            identity: identity.as_str().to_string(),
            issued_at: signed.iat,
            expires_at: signed.exp,
            ttl: issuer.ttl,
            service_sid: issuer.chat.service_sid.clone(),
            region: issuer.region.clone(),
            demo: issuer.demo,
        })
    }
}
