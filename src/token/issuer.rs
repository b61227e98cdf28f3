//! The configured token issuer: Twilio settings (or demo placeholders) and a prepared
//! signing key. Pure: `issue` takes the clock as an argument; the demo secret's random
//! bytes are the only thing drawn here, once, when the issuer is built.

use super::access_token::{ChatGrant, SignedToken, SigningKey, Template, TokenError};
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

/// The SIDs, grant and region are fixed at [`TokenIssuer::new`]: the token template is
/// made from them there (read them with the methods of the same names).
#[derive(Debug, Clone)]
pub struct TokenIssuer {
    account_sid: String,
    api_key_sid: String,
    key: SigningKey,
    chat: ChatGrant,
    pub ttl: u32,
    region: Option<String>,
    pub mode: Mode,
    template: Template,
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
        let template = Template::new(&account_sid, &api_key_sid, &chat, region.as_deref())?;
        Ok(TokenIssuer { account_sid, api_key_sid, key, chat, ttl, region, mode, template })
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

    pub fn issue_with_ttl(&self, identity: &str, ttl: u32, now: u64) -> Result<SignedToken, TokenError> {
        self.template.to_jwt(&self.key, identity, ttl, now)
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
            (a.account_sid(), a.chat().service_sid.as_str()),
            (DEMO_ACCOUNT_SID, DEMO_CHAT_SERVICE_SID)
        );
        assert_eq!((a.ttl, a.region()), (900, Some("au1")));
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
        assert_eq!(issuer.api_key_sid(), "SK0123456789abcdef0123456789abcdef");
        assert_eq!(issuer.chat().push_credential_sid.as_deref(), Some("CR0123456789abcdef0123456789abcdef"));
        assert_eq!(issuer.ttl, twilio::TTL_DEFAULT);
    }

    #[test]
    fn the_issuers_template_writes_what_the_access_token_writes() {
        use super::super::access_token::AccessToken;
        let all_chat = ChatGrant {
            service_sid: "IS1".into(),
            endpoint_id: Some("ep\"1".into()),
            deployment_role_sid: Some("".into()),
            push_credential_sid: Some("CR1".into()),
        };
        let issuers = [
            TokenIssuer::new("AC1".into(), "SK1".into(), "s", ChatGrant::default(), 3600, None, Mode::Live),
            TokenIssuer::new(
                "AC\u{e9}".into(),
                "SK\"\\".into(),
                "s",
                all_chat,
                180,
                Some("ie1".into()),
                Mode::Live,
            ),
            TokenIssuer::new(
                "AC1".into(),
                "SK1".into(),
                "s",
                ChatGrant::default(),
                86_400,
                Some(String::new()),
                Mode::Demo,
            ),
        ];
        let identities = [
            "ann@example.com",
            "\"quoted\"\\back",
            "tab\there\u{1}\u{7f}",
            "\u{2028}\u{e9}\u{1F600}",
            "<script>",
        ];
        for issuer in issuers {
            let issuer = issuer.unwrap();
            for identity in identities {
                for (ttl, now) in [(issuer.ttl, 0), (180, 1_764_300_000), (86_400, u64::from(u32::MAX))] {
                    let expected = AccessToken {
                        account_sid: issuer.account_sid(),
                        api_key_sid: issuer.api_key_sid(),
                        secret: &issuer.key,
                        identity,
                        ttl,
                        nbf: None,
                        region: issuer.region(),
                        chat: issuer.chat(),
                    }
                    .to_jwt(now);
                    assert_eq!(issuer.issue_with_ttl(identity, ttl, now), expected, "{identity:?}");
                }
            }
            assert_eq!(issuer.issue("", 0), Err(TokenError::EmptyIdentity));
        }
        let no_account =
            TokenIssuer::new("".into(), "SK1".into(), "s", ChatGrant::default(), 60, None, Mode::Live);
        assert_eq!(no_account.unwrap().issue("a", 0), Err(TokenError::EmptyAccountSid));
        let no_key =
            TokenIssuer::new("AC1".into(), "".into(), "s", ChatGrant::default(), 60, None, Mode::Live);
        assert_eq!(no_key.unwrap().issue("a", 0), Err(TokenError::EmptyApiKeySid));
    }
}
