//! The server side of `chat_token`: the only place a token meets a session.

use std::{
    sync::Arc,
    time::{SystemTime, UNIX_EPOCH},
};

use super::{issued::IssuedChatToken, issuer::TokenIssuer};
use crate::{
    config::{AccountSettings, ChatIdentity, Verification},
    domain::Identity,
    error::AppError,
    state::{auth_session, feature_state},
};

/// The identity is the signed-in user's stored email (or, with
/// `CHATPASS_CHAT_IDENTITY=user-id`, their opaque id), from the session; nothing in the
/// request can change it. An email nobody has proven yet gets no token (403).
pub async fn chat_token() -> Result<IssuedChatToken, AppError> {
    let issuer = feature_state::<Arc<TokenIssuer>>()?;
    let accounts = feature_state::<AccountSettings>()?;
    let auth = auth_session().await?;
    let Some(user) = auth.user else {
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
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_err(|_| AppError::Internal)?.as_secs();
    let signed = issuer.issue(identity.as_str(), now).map_err(|e| {
        tracing::error!(error = %e, "token signing failed");
        AppError::Internal
    })?;
    crate::metrics::token_issued(if issuer.is_demo() { "demo" } else { "live" });
    tracing::info!(
        user.id = user.id,
        jti = %signed.jti,
        exp = signed.exp,
        demo = issuer.is_demo(),
        "chat token issued"
    );
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
