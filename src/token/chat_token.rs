//! `POST /api/chat_token`: the server function the chat page calls, its work on the
//! server beside it, and the answer's type. The only place a token meets a session.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

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

/// Issues a Twilio Access Token with a Chat grant for the signed-in user. The identity
/// is the user's stored email, taken from the session; the request carries nothing that
/// could change it. Without a session: 401.
#[server(prefix = "/api", endpoint = "chat_token")]
pub async fn chat_token() -> Result<IssuedChatToken, AppError> {
    issue_for_session().await
}

/// The identity is the signed-in user's stored email (or, with
/// `CHATPASS_CHAT_IDENTITY=user-id`, their opaque id), from the session; nothing in the
/// request can change it. An email nobody has proven yet gets no token (403).
#[cfg(feature = "ssr")]
async fn issue_for_session() -> Result<IssuedChatToken, AppError> {
    use super::issuer::TokenIssuer;
    use crate::{
        config::{AccountSettings, ChatIdentity, Verification},
        domain::Identity,
        state::{auth_session, feature_state},
    };

    let issuer = feature_state::<std::sync::Arc<TokenIssuer>>()?;
    let accounts = feature_state::<AccountSettings>()?;
    let Some(user) = auth_session().await?.user else {
        return Err(AppError::NotSignedIn);
    };
    if accounts.verification == Verification::Required && user.email_verified_at.is_none() {
        tracing::info!(user.id = user.id, "chat token refused: email not verified");
        return Err(AppError::EmailUnverified);
    }
    let identity = match accounts.chat_identity {
        ChatIdentity::Email => Identity::parse(&user.email)?,
        ChatIdentity::UserId => Identity::parse(&user.chat_id)?,
    };
    let now = std::time::UNIX_EPOCH.elapsed().map_err(|_| AppError::Internal)?.as_secs();
    let signed = issuer.issue(identity.as_str(), now).map_err(|e| {
        tracing::error!(error = %e, "token signing failed");
        AppError::Internal
    })?;
    crate::metrics::token_issued(if issuer.is_demo() { "demo" } else { "live" });
    tracing::info!(user.id = user.id, jti = %signed.jti, exp = signed.exp, demo = issuer.is_demo(), "chat token issued");
    Ok(IssuedChatToken {
        token: signed.jwt,
        identity: identity.as_str().to_string(),
        email: user.email.clone(),
        display_name: user.display_name_or_default(),
        issued_at: signed.iat,
        expires_at: signed.exp,
        ttl: issuer.ttl,
        service_sid: issuer.chat().service_sid.clone(),
        region: issuer.region().map(str::to_owned),
        demo: issuer.is_demo(),
    })
}
