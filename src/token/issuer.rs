//! The configured token issuer: Twilio settings (or demo placeholders) and the signing
//! key, made once. Pure: `issue` takes the clock as an argument; the demo secret's random
//! bytes are the only thing drawn here, once, when the issuer is built.

use super::access_token::{AccessToken, ChatGrant, SignedToken, SigningKey, TokenError};
use crate::config::{TwilioMode, TwilioSettings};

/// Placeholder SIDs for demo mode: well-formed, obviously not a real account.
pub const DEMO_ACCOUNT_SID: &str = "AC00000000000000000000000000000000";
pub const DEMO_API_KEY_SID: &str = "SK00000000000000000000000000000000";
pub const DEMO_CHAT_SERVICE_SID: &str = "IS00000000000000000000000000000000";

/// What the server (in its log) and the CLI (on stderr) say about a demo issuer.
pub const DEMO_WARNING: &str =
    "demo mode: no Twilio settings, so chat tokens are signed with a random secret and Twilio will refuse them";

/// Whose secret signs the tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The configured Twilio API key: Twilio accepts the tokens.
    Live,
    /// A random secret made for this process and placeholder SIDs: Twilio refuses them.
    Demo,
}

/// The SIDs, grant and region are fixed at [`TokenIssuer::new`] (read them with the
/// methods of the same names); every token is signed with the one key made there.
#[derive(Debug, Clone)]
pub struct TokenIssuer {
    account_sid: String,
    api_key_sid: String,
    key: SigningKey,
    chat: ChatGrant,
    pub ttl: u32,
    region: Option<String>,
    pub mode: Mode,
}

impl TokenIssuer {
    /// The issuer for these settings: the configured account when live; in demo mode a
    /// random 256-bit secret (hex) made now, and the placeholder SIDs.
    pub fn from_settings(settings: &TwilioSettings) -> Self {
        let issuer = match &settings.mode {
            TwilioMode::Live(account) => TokenIssuer::new(
                account.account_sid.clone(),
                account.api_key_sid.clone(),
                account.secret(),
                ChatGrant {
                    service_sid: account.chat_service_sid.clone(),
                    push_credential_sid: account.push_credential_sid.clone(),
                    ..Default::default()
                },
                settings.ttl,
                settings.region.clone(),
                Mode::Live,
            ),
            TwilioMode::Demo => {
                let secret = crate::security::random_hex(32);
                TokenIssuer::new(
                    DEMO_ACCOUNT_SID.into(),
                    DEMO_API_KEY_SID.into(),
                    &secret,
                    ChatGrant { service_sid: DEMO_CHAT_SERVICE_SID.into(), ..Default::default() },
                    settings.ttl,
                    settings.region.clone(),
                    Mode::Demo,
                )
            }
        };
        // The settings parser refuses an empty secret, the only thing `new` can refuse.
        issuer.expect("a non-empty secret (checked when the settings were read)")
    }

    pub fn new(
        account_sid: String,
        api_key_sid: String,
        secret: &str,
        chat: ChatGrant,
        ttl: u32,
        region: Option<String>,
        mode: Mode,
    ) -> Result<Self, TokenError> {
        let key = SigningKey::new(secret)?;
        Ok(TokenIssuer { account_sid, api_key_sid, key, chat, ttl, region, mode })
    }

    pub fn account_sid(&self) -> &str {
        &self.account_sid
    }

    pub fn api_key_sid(&self) -> &str {
        &self.api_key_sid
    }

    pub fn chat(&self) -> &ChatGrant {
        &self.chat
    }

    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    pub fn is_demo(&self) -> bool {
        self.mode == Mode::Demo
    }

    /// Signs a token for `identity`, issued at `now` with this issuer's ttl.
    pub fn issue(&self, identity: &str, now: u64) -> Result<SignedToken, TokenError> {
        self.issue_with_ttl(identity, self.ttl, now)
    }

    /// Signs a token for `identity` with another lifetime (`chatpass token new --ttl`).
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

#[cfg(test)]
mod tests;
