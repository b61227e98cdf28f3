//! The configured token issuer: Twilio settings (or demo placeholders) and a prepared
//! signing key. Pure: `issue` takes the clock as an argument; the demo secret's random
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

#[derive(Debug, Clone)]
pub struct TokenIssuer {
    pub account_sid: String,
    pub api_key_sid: String,
    key: SigningKey,
    pub chat: ChatGrant,
    pub ttl: u32,
    pub region: Option<String>,
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
        Ok(TokenIssuer { account_sid, api_key_sid, key: SigningKey::new(secret)?, chat, ttl, region, mode })
    }

    pub fn is_demo(&self) -> bool {
        self.mode == Mode::Demo
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::twilio;

    fn settings(pairs: &[(&str, &str)]) -> TwilioSettings {
        let env: std::collections::HashMap<&str, &str> = pairs.iter().copied().collect();
        twilio::parse(&|k| env.get(k).map(|v| v.to_string())).unwrap()
    }

    #[test]
    fn demo_settings_make_a_demo_issuer_with_a_fresh_secret_each_time() {
        let s = settings(&[("TWILIO_REGION", "au1"), ("CHATPASS_TOKEN_TTL", "900")]);
        let (a, b) = (TokenIssuer::from_settings(&s), TokenIssuer::from_settings(&s));
        assert_eq!(a.mode, Mode::Demo);
        assert!(a.is_demo());
        assert_eq!(
            (a.account_sid.as_str(), a.chat.service_sid.as_str()),
            (DEMO_ACCOUNT_SID, DEMO_CHAT_SERVICE_SID)
        );
        assert_eq!((a.ttl, a.region.as_deref()), (900, Some("au1")));
        let (ta, tb) = (
            a.issue("ann@example.com", 1_700_000_000).unwrap(),
            b.issue("ann@example.com", 1_700_000_000).unwrap(),
        );
        assert_ne!(ta.jwt, tb.jwt, "each demo issuer has its own random secret");
        assert_eq!(ta.exp, 1_700_000_900);
    }

    #[test]
    fn live_settings_make_a_live_issuer_for_that_account() {
        let s = settings(&[
            ("TWILIO_ACCOUNT_SID", "AC0123456789abcdef0123456789abcdef"),
            ("TWILIO_API_KEY", "SK0123456789abcdef0123456789abcdef"),
            ("TWILIO_API_SECRET", "secret"),
            ("TWILIO_CHAT_SERVICE_SID", "IS0123456789abcdef0123456789abcdef"),
            ("TWILIO_PUSH_CREDENTIAL_SID", "CR0123456789abcdef0123456789abcdef"),
        ]);
        let issuer = TokenIssuer::from_settings(&s);
        assert_eq!(issuer.mode, Mode::Live);
        assert_eq!(issuer.api_key_sid, "SK0123456789abcdef0123456789abcdef");
        assert_eq!(issuer.chat.push_credential_sid.as_deref(), Some("CR0123456789abcdef0123456789abcdef"));
        assert_eq!(issuer.ttl, twilio::TTL_DEFAULT);
    }
}
