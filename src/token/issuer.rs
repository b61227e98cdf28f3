//! The configured token issuer: Twilio settings (or demo placeholders), the signing key and
//! a Chat grant per platform, made once. Pure: `issue` takes the clock; only a demo secret
//! is drawn, once, at start.

use super::access_token::{AccessToken, ChatGrant, SignedToken, SigningKey, TokenError};
use crate::config::{TwilioMode, TwilioSettings};
use crate::domain::Platform;

/// Placeholder SIDs for demo mode: well-formed, obviously not a real account.
pub const DEMO_ACCOUNT_SID: &str = "AC00000000000000000000000000000000";
pub const DEMO_API_KEY_SID: &str = "SK00000000000000000000000000000000";
pub const DEMO_CHAT_SERVICE_SID: &str = "IS00000000000000000000000000000000";

/// What the server (in its log) and the CLI (on stderr) say about a demo issuer.
pub const DEMO_WARNING: &str =
    "demo mode: no Twilio settings, so chat tokens are signed with a random secret and Twilio will refuse them";

/// Whose secret signs the tokens: the configured Twilio API key's (`Live`: Twilio accepts
/// them), or one made at random for this process, with placeholder SIDs (`Demo`: refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Live,
    Demo,
}

/// What every token of this instance carries but its identity and times; the key signs all.
#[derive(Debug, Clone)]
pub struct TokenIssuer {
    pub account_sid: String,
    pub api_key_sid: String,
    key: SigningKey,
    /// The grant of `web` and of a request naming no platform.
    pub chat: ChatGrant,
    /// Each `TWILIO_PUSH_CREDENTIALS` platform's grant: `chat` with that push credential.
    platform_grants: Vec<(String, ChatGrant)>,
    pub ttl: u32,
    pub region: Option<String>,
    pub mode: Mode,
}

impl TokenIssuer {
    /// The issuer for these settings: the configured account when live; in demo mode a
    /// random 256-bit secret (hex) made now, and the placeholder SIDs.
    pub fn from_settings(settings: &TwilioSettings) -> Self {
        let (ttl, region) = (settings.ttl, settings.region.clone());
        let issuer = match &settings.mode {
            TwilioMode::Live(account) => {
                let chat = ChatGrant {
                    service_sid: account.chat_service_sid.clone(),
                    push_credential_sid: account.push_credential_sid.clone(),
                    ..Default::default()
                };
                let (sid, key) = (account.account_sid.clone(), account.api_key_sid.clone());
                TokenIssuer::new(sid, key, account.secret(), chat, ttl, region, Mode::Live)
                    .map(|issuer| issuer.with_push_credentials(&account.push_credentials))
            }
            TwilioMode::Demo => {
                let chat = ChatGrant { service_sid: DEMO_CHAT_SERVICE_SID.into(), ..Default::default() };
                let (sid, key) = (DEMO_ACCOUNT_SID.into(), DEMO_API_KEY_SID.into());
                TokenIssuer::new(sid, key, &crate::security::random_hex(32), chat, ttl, region, Mode::Demo)
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
        let platform_grants = Vec::new();
        Ok(TokenIssuer { account_sid, api_key_sid, key, chat, platform_grants, ttl, region, mode })
    }

    /// This issuer with a grant for each `(platform, push credential SID)`: `chat` with
    /// that SID. Made once, so a request only looks its grant up.
    pub fn with_push_credentials(mut self, credentials: &[(String, String)]) -> Self {
        self.platform_grants = credentials
            .iter()
            .map(|(name, sid)| {
                (name.clone(), ChatGrant { push_credential_sid: Some(sid.clone()), ..self.chat.clone() })
            })
            .collect();
        self
    }

    /// The grant for `platform`: `chat` for none or `web`, `None` for a name not configured.
    pub fn grant_for(&self, platform: Option<&Platform>) -> Option<&ChatGrant> {
        match platform.filter(|p| !p.is_web()) {
            None => Some(&self.chat),
            Some(p) => {
                self.platform_grants.iter().find(|(name, _)| name == p.as_str()).map(|(_, grant)| grant)
            }
        }
    }

    pub fn is_demo(&self) -> bool {
        self.mode == Mode::Demo
    }

    /// Signs a token for `identity` with the default grant, issued at `now` with this issuer's ttl.
    pub fn issue(&self, identity: &str, now: u64) -> Result<SignedToken, TokenError> {
        self.sign(identity, &self.chat, self.ttl, now)
    }

    /// Signs a token for `identity` with `grant` (one of [`Self::grant_for`]'s).
    pub fn issue_with_grant(
        &self,
        identity: &str,
        grant: &ChatGrant,
        now: u64,
    ) -> Result<SignedToken, TokenError> {
        self.sign(identity, grant, self.ttl, now)
    }

    /// Signs a token for `identity` with another lifetime (`chatpass token new --ttl`).
    pub fn issue_with_ttl(&self, identity: &str, ttl: u32, now: u64) -> Result<SignedToken, TokenError> {
        self.sign(identity, &self.chat, ttl, now)
    }

    fn sign(&self, identity: &str, chat: &ChatGrant, ttl: u32, now: u64) -> Result<SignedToken, TokenError> {
        AccessToken {
            account_sid: &self.account_sid,
            api_key_sid: &self.api_key_sid,
            secret: &self.key,
            identity,
            ttl,
            nbf: None,
            region: self.region.as_deref(),
            chat,
        }
        .to_jwt(now)
    }
}

#[cfg(test)]
mod tests;
