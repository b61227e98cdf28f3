//! The server side of `chat_token`: the only place a token meets a session.

use std::{
    sync::Arc,
    time::{SystemTime, UNIX_EPOCH},
};

use super::{issued::IssuedChatToken, issuer::TokenIssuer};
use crate::{
    domain::Identity,
    error::AppError,
    state::{auth_session, feature_state},
};

/// The identity is the signed-in user's stored email, from the session; nothing in the
/// request can change it.
pub async fn chat_token() -> Result<IssuedChatToken, AppError> {
    let issuer = feature_state::<Arc<TokenIssuer>>()?;
    let auth = auth_session().await?;
    let Some(user) = auth.user else {
        return Err(AppError::NotSignedIn);
    };
    let identity = Identity::parse(&user.email)?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_err(|_| AppError::Internal)?.as_secs();
    let signed = issuer.issue(identity.as_str(), now).map_err(|e| {
        tracing::error!(error = %e, "token signing failed");
        AppError::Internal
    })?;
    tracing::info!(
        user.id = user.id,
        identity = identity.as_str(),
        jti = %signed.jti,
        exp = signed.exp,
        demo = issuer.is_demo(),
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
        demo: issuer.is_demo(),
    })
}
