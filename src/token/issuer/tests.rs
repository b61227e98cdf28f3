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

const CR_WEB: &str = "CR0123456789abcdef0123456789abcdef";
const CR_IOS: &str = "CRaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const CR_ANDROID: &str = "CRbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

fn live_with(extra: &[(&str, &str)]) -> TokenIssuer {
    let mut pairs = vec![
        ("TWILIO_ACCOUNT_SID", "AC0123456789abcdef0123456789abcdef"),
        ("TWILIO_API_KEY", "SK0123456789abcdef0123456789abcdef"),
        ("TWILIO_API_SECRET", "secret"),
        ("TWILIO_CHAT_SERVICE_SID", "IS0123456789abcdef0123456789abcdef"),
    ];
    pairs.extend_from_slice(extra);
    TokenIssuer::from_settings(&settings(&pairs))
}

fn platform(name: &str) -> Platform {
    Platform::parse(name).unwrap()
}

#[test]
fn each_platform_gets_the_default_grant_with_its_own_push_credential() {
    let credentials = format!("ios={CR_IOS},android={CR_ANDROID}");
    let issuer = live_with(&[
        ("TWILIO_PUSH_CREDENTIAL_SID", CR_WEB),
        ("TWILIO_PUSH_CREDENTIALS", credentials.as_str()),
    ]);
    let sid = |p: Option<&Platform>| issuer.grant_for(p).map(|g| g.push_credential_sid.as_deref());
    assert_eq!(sid(None), Some(Some(CR_WEB)));
    assert_eq!(sid(Some(&Platform::web())), Some(Some(CR_WEB)));
    assert_eq!(sid(Some(&platform("ios"))), Some(Some(CR_IOS)));
    assert_eq!(sid(Some(&platform("android"))), Some(Some(CR_ANDROID)));
    assert_eq!(sid(Some(&platform("ios-sandbox"))), None, "a name not configured");
    let ios = issuer.grant_for(Some(&platform("ios"))).unwrap();
    assert_eq!(ios.service_sid, issuer.chat.service_sid, "everything else is the default grant's");
    // Without TWILIO_PUSH_CREDENTIAL_SID, web has no push credential and the others theirs.
    let issuer = live_with(&[("TWILIO_PUSH_CREDENTIALS", credentials.as_str())]);
    assert_eq!(issuer.grant_for(None).unwrap().push_credential_sid, None);
    assert_eq!(
        issuer.grant_for(Some(&platform("ios"))).unwrap().push_credential_sid.as_deref(),
        Some(CR_IOS)
    );
}

#[test]
fn a_demo_issuer_knows_only_web() {
    let issuer = TokenIssuer::from_settings(&settings(&[]));
    assert_eq!(issuer.grant_for(None), Some(&issuer.chat));
    assert_eq!(issuer.grant_for(Some(&Platform::web())), Some(&issuer.chat));
    assert_eq!(issuer.grant_for(Some(&platform("ios"))), None);
}

#[test]
fn issuing_with_a_grant_signs_that_grant_and_issue_signs_the_default() {
    let credentials = format!("ios={CR_IOS}");
    let issuer = live_with(&[("TWILIO_PUSH_CREDENTIALS", credentials.as_str())]);
    let ios = issuer.grant_for(Some(&platform("ios"))).unwrap();
    let with_grant = issuer.issue_with_grant("ann@example.com", ios, 1_700_000_000).unwrap();
    let expected = AccessToken {
        account_sid: &issuer.account_sid,
        api_key_sid: &issuer.api_key_sid,
        secret: &SigningKey::new("secret").unwrap(),
        identity: "ann@example.com",
        ttl: issuer.ttl,
        nbf: None,
        region: None,
        chat: ios,
    }
    .to_jwt(1_700_000_000)
    .unwrap();
    assert_eq!(with_grant, expected);
    let default = issuer.issue("ann@example.com", 1_700_000_000).unwrap();
    let default_grant = issuer.grant_for(None).unwrap();
    assert_eq!(default, issuer.issue_with_grant("ann@example.com", default_grant, 1_700_000_000).unwrap());
    assert_ne!(default.jwt, with_grant.jwt);
}
