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

#[test]
fn the_issuer_refuses_what_the_encoder_refuses() {
    let issuer =
        TokenIssuer::new("AC1".into(), "SK1".into(), "s", ChatGrant::default(), 60, None, Mode::Live);
    assert_eq!(issuer.unwrap().issue("", 0), Err(TokenError::EmptyIdentity));
    let no_account =
        TokenIssuer::new("".into(), "SK1".into(), "s", ChatGrant::default(), 60, None, Mode::Live);
    assert_eq!(no_account.unwrap().issue("a", 0), Err(TokenError::EmptyAccountSid));
    let no_key = TokenIssuer::new("AC1".into(), "".into(), "s", ChatGrant::default(), 60, None, Mode::Live);
    assert_eq!(no_key.unwrap().issue("a", 0), Err(TokenError::EmptyApiKeySid));
    let no_secret =
        TokenIssuer::new("AC1".into(), "SK1".into(), "", ChatGrant::default(), 60, None, Mode::Live);
    assert_eq!(no_secret.unwrap_err(), TokenError::EmptySecret);
}
