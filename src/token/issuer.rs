//! The configured token issuer: Twilio settings (or demo placeholders) and a prepared
//! signing key. Pure: `issue` takes the clock as an argument.

use super::access_token::{AccessToken, ChatGrant, SignedToken, SigningKey, TokenError};

/// Placeholder SIDs for demo mode: well-formed, obviously not a real account.
pub const DEMO_ACCOUNT_SID: &str = "AC00000000000000000000000000000000";
pub const DEMO_API_KEY_SID: &str = "SK00000000000000000000000000000000";
pub const DEMO_CHAT_SERVICE_SID: &str = "IS00000000000000000000000000000000";

#[derive(Debug, Clone)]
pub struct TokenIssuer {
    pub account_sid: String,
    pub api_key_sid: String,
    key: SigningKey,
    pub chat: ChatGrant,
    pub ttl: u32,
    pub region: Option<String>,
    /// True when no Twilio account is configured: the secret is random, Twilio will refuse it.
    pub demo: bool,
}

impl TokenIssuer {
    pub fn new(
        account_sid: String,
        api_key_sid: String,
        secret: &str,
        chat: ChatGrant,
        ttl: u32,
        region: Option<String>,
        demo: bool,
    ) -> Result<Self, TokenError> {
        Ok(TokenIssuer { account_sid, api_key_sid, key: SigningKey::new(secret)?, chat, ttl, region, demo })
    }

    /// Signs a token for `identity`, issued at `now` with this issuer's ttl.
    pub fn issue(&self, identity: &str, now: u64) -> Result<SignedToken, TokenError> {
        self.issue_with_ttl(identity, self.ttl, now)
    }

    pub fn issue_with_ttl(&self, identity: &str, ttl: u32, now: u64) -> Result<SignedToken, TokenError> {
        AccessToken {
            account_sid: &self.account_sid,
            api_key_sid: &self.api_key_sid,
            secret: &self.key,
            identity,
            ttl,
            nbf: None,
            region: self.region.as_deref(),
            chat: &self.chat,
        }
        .to_jwt(now)
    }
}
