//! `POST /api/chat_token`: the server function the chat page calls, its work on the
//! server beside it, and the answer's type. The only place a token meets a session.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::platform_field::PlatformField;
use crate::error::AppError;

/// What `POST /api/chat_token` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedChatToken {
    /// The signed JWT, for `new Twilio.Conversations.Client(token)`.
    pub token: String,
    /// The token's `grants.identity`: the user's email, or their opaque id.
    pub identity: String,
    /// From the account, not from the token: the email, and the name the user is shown
    /// by (the one they chose, or their email's local part).
    pub email: String,
    #[serde(default)]
    pub display_name: String,
    /// `iat` and `exp`, seconds since the epoch; `ttl`, the lifetime in seconds.
    pub issued_at: u64,
    pub expires_at: u64,
    pub ttl: u32,
    /// The Chat grant's Conversations service, and Twilio's region (`twr`) when one is set.
    pub service_sid: String,
    pub region: Option<String>,
    /// True in demo mode: Twilio will refuse this token.
    pub demo: bool,
}

/// Issues a Twilio Access Token with a Chat grant for the signed-in user: 401 without a
/// session, 403 for an email nobody has proven yet. `platform` (`ios`, `android`, …; left
/// out, `web`) chooses only the grant's push credential.
#[server(prefix = "/api", endpoint = "chat_token")]
pub async fn chat_token(#[server(default)] platform: PlatformField) -> Result<IssuedChatToken, AppError> {
    issue_for_session(platform).await
}

/// The identity is the user's stored email (or, with `CHATPASS_CHAT_IDENTITY=user-id`,
/// their opaque id), from the account the session or device token belongs to: nothing in
/// the request can change it.
#[cfg(feature = "ssr")]
async fn issue_for_session(platform: PlatformField) -> Result<IssuedChatToken, AppError> {
    use crate::config::AccountSettings;
    use crate::{domain::Identity, domain::Platform, state::feature_state};

    let platform = platform.0.as_deref().map(Platform::parse).transpose()?;
    let issuer = feature_state::<std::sync::Arc<super::issuer::TokenIssuer>>()?;
    let grant = issuer
        .grant_for(platform.as_ref())
        .ok_or_else(|| AppError::bad_input("platform", "No push credential is set for this platform."))?;
    let accounts = feature_state::<AccountSettings>()?;
    // A device token's account, else the session's: the credential names no identity.
    let user = crate::caller::account().await?;
    if !user.may_chat(accounts.verification) {
        tracing::info!(user.id = user.id, "chat token refused: email not verified");
        return Err(AppError::EmailUnverified);
    }
    let identity = Identity::parse(user.chat_identity(accounts.chat_identity))?;
    let now = std::time::UNIX_EPOCH.elapsed().map_err(|_| AppError::Internal)?.as_secs();
    let signed = issuer.issue_with_grant(identity.as_str(), grant, now).map_err(|e| {
        tracing::error!(error = %e, "token signing failed");
        AppError::Internal
    })?;
    let demo = issuer.is_demo();
    crate::metrics::token_issued(if demo { "demo" } else { "live" });
    let platform = platform.as_ref().map_or("web", Platform::as_str);
    tracing::info!(user.id = user.id, jti = %signed.jti, exp = signed.exp, demo, platform, "chat token issued");
    Ok(IssuedChatToken {
        token: signed.jwt,
        identity: identity.as_str().to_string(),
        email: user.email.clone(),
        display_name: user.display_name_or_default(),
        issued_at: signed.iat,
        expires_at: signed.exp,
        ttl: issuer.ttl,
        service_sid: grant.service_sid.clone(),
        region: issuer.region.clone(),
        demo,
    })
}
