//! Our token bytes against Twilio's own helper libraries, run for real.
//!
//! - twilio-node (`tests/oracle/node_modules/twilio`): byte-for-byte equal tokens.
//! - twilio-python (in `.tools/oracle-venv`): equal decoded header and claims, apart from
//!   the `iat`/`nbf` defaults where the two libraries differ by design.
//! - PyJWT verifies our signatures.
//! - A live app's tokens, as `POST /api/chat_token` answers them, equal twilio-node's.
//!
//! `make test` installs the pinned oracles first (`make oracles`).

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use chatpass::token::{AccessToken, ChatGrant, IssuedChatToken, SigningKey, TokenError};
use serde_json::{json, Value};

use crate::common::{
    self,
    fixtures::GOOD,
    oracle::{node_script, python_script, run_json},
    TestApp,
};

const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const KEY: &str = "SKfedcba9876543210fedcba9876543210";
const SERVICE: &str = "IS00112233445566778899aabbccddeeff";
const NOW: u64 = 1_764_300_000;

/// twilio-node's answer for each case: `{"token": …}` or `{"error": …}`.
fn node_tokens(cases: &[Case]) -> Value {
    run_json(node_script("node_oracle.js"), &Value::Array(cases.iter().map(Case::to_json).collect()))
}

#[derive(Clone)]
struct Case {
    secret: &'static str,
    identity: String,
    ttl: u32,
    nbf: Option<i64>,
    region: Option<&'static str>,
    chat: ChatGrant,
    now: u64,
}

impl Case {
    fn new(identity: &str) -> Self {
        Case {
            secret: "a-not-so-secret-api-secret-for-tests",
            identity: identity.to_string(),
            ttl: 3600,
            nbf: None,
            region: None,
            chat: ChatGrant { service_sid: SERVICE.into(), ..Default::default() },
            now: NOW,
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "accountSid": ACCOUNT,
            "keySid": KEY,
            "secret": self.secret,
            "identity": self.identity,
            "ttl": self.ttl,
            "nbf": self.nbf,
            "region": self.region,
            "now": self.now,
            "chat": {
                "serviceSid": self.chat.service_sid,
                "endpointId": self.chat.endpoint_id,
                "deploymentRoleSid": self.chat.deployment_role_sid,
                "pushCredentialSid": self.chat.push_credential_sid,
            },
        })
    }

    fn ours(&self) -> Result<String, TokenError> {
        let key = SigningKey::new(self.secret)?;
        AccessToken {
            account_sid: ACCOUNT,
            api_key_sid: KEY,
            secret: &key,
            identity: &self.identity,
            ttl: self.ttl,
            nbf: self.nbf,
            region: self.region,
            chat: &self.chat,
        }
        .to_jwt(self.now)
        .map(|t| t.jwt)
    }
}

fn table() -> Vec<Case> {
    let mut cases = vec![
        Case::new("ann@example.com"),
        Case::new("bob.smith+chat@sub.example.co.uk"),
        Case::new(r#"quote"in@example.com"#),
        Case::new(r"back\slash"),
        Case::new("control\u{1}\u{8}\t\n\r\u{c}\u{1f}\u{7f}chars"),
        Case::new("zoë@exämple.com"),
        Case::new("日本語のユーザー"),
        Case::new("emoji 😀🎉 user"),
        Case::new("line\u{2028}separator\u{2029}paragraph"),
        Case::new("</script><script>alert(1)</script>"),
        Case::new("slash/and&amp;'apostrophe'"),
    ];
    let mut all_fields = Case::new("fields@example.com");
    all_fields.chat = ChatGrant {
        service_sid: SERVICE.into(),
        endpoint_id: Some("chatpass:fields@example.com:browser".into()),
        deployment_role_sid: Some("RL00112233445566778899aabbccddeeff".into()),
        push_credential_sid: Some("CR00112233445566778899aabbccddeeff".into()),
    };
    cases.push(all_fields);
    let mut some_fields = Case::new("some@example.com");
    some_fields.chat.push_credential_sid = Some("CR00112233445566778899aabbccddeeff".into());
    cases.push(some_fields);
    let mut with_nbf = Case::new("nbf@example.com");
    with_nbf.nbf = Some(NOW as i64 - 60);
    cases.push(with_nbf);
    let mut region = Case::new("region@example.com");
    region.region = Some("ie1");
    cases.push(region);
    let mut min_ttl = Case::new("min@example.com");
    min_ttl.ttl = 180;
    cases.push(min_ttl);
    let mut max_ttl = Case::new("max@example.com");
    max_ttl.ttl = 86_400;
    cases.push(max_ttl);
    let mut unicode_secret = Case::new("secret@example.com");
    unicode_secret.secret = "sécret-clé-🔑-ключ";
    cases.push(unicode_secret);
    let mut everything = Case::new("every@example.com");
    everything.nbf = Some(NOW as i64);
    everything.region = Some("au1");
    everything.ttl = 86_400;
    everything.now = 1;
    everything.chat.endpoint_id = Some("ep".into());
    cases.push(everything);
    cases
}

fn decode(part: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

#[test]
fn tokens_are_byte_for_byte_what_twilio_node_makes() {
    let cases = table();
    let theirs = node_tokens(&cases);
    for (case, theirs) in cases.iter().zip(theirs.as_array().unwrap()) {
        let ours = case.ours().unwrap();
        let theirs = theirs["token"].as_str().unwrap_or_else(|| panic!("node refused: {theirs}"));
        assert_eq!(ours, theirs, "identity {:?}", case.identity);
    }
}

#[test]
fn an_empty_identity_is_refused_like_twilio_node_refuses_it() {
    let case = Case::new("");
    let theirs = node_tokens(std::slice::from_ref(&case));
    assert!(theirs[0]["error"].as_str().unwrap().contains("identity is required"));
    assert_eq!(case.ours().unwrap_err(), TokenError::EmptyIdentity);
}

#[test]
fn decoded_claims_equal_twilio_pythons_and_pyjwt_verifies_ours() {
    let cases = table();
    let ours: Vec<String> = cases.iter().map(|c| c.ours().unwrap()).collect();
    let input = json!({
        "cases": cases.iter().map(Case::to_json).collect::<Vec<_>>(),
        "ours": ours,
    });
    let results = run_json(python_script("python_oracle.py"), &input);
    for ((case, ours), result) in cases.iter().zip(&ours).zip(results.as_array().unwrap()) {
        let parts: Vec<&str> = ours.split('.').collect();
        // Header: the same keys and values (Python sorts its keys; the bytes differ).
        assert_eq!(decode(parts[0]), result["header"], "header for {:?}", case.identity);
        // Claims: twilio-python writes no `iat` and sets `nbf` to now when none is given.
        let mut our_claims = decode(parts[1]);
        our_claims.as_object_mut().unwrap().remove("iat");
        let mut their_claims = result["claims"].clone();
        if case.nbf.is_none() {
            assert_eq!(their_claims["nbf"], json!(case.now), "python's default nbf");
            their_claims.as_object_mut().unwrap().remove("nbf");
        }
        assert_eq!(our_claims, their_claims, "claims for {:?}", case.identity);
        assert_eq!(result["pyjwt"]["ok"], json!(true), "PyJWT: {}", result["pyjwt"]);
        assert_eq!(result["pyjwt"]["claims"]["grants"]["identity"], json!(case.identity));
    }
}

#[tokio::test]
async fn the_routers_tokens_with_a_push_credential_are_twilio_nodes() {
    const WEB_PUSH: &str = "CR0123456789abcdef0123456789abcdef";
    const IOS_PUSH: &str = "CRaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    let secret = Case::new("").secret;
    let app = TestApp::builder()
        .env("TWILIO_ACCOUNT_SID", ACCOUNT)
        .env("TWILIO_API_KEY", KEY)
        .env("TWILIO_API_SECRET", secret)
        .env("TWILIO_CHAT_SERVICE_SID", SERVICE)
        .env("TWILIO_PUSH_CREDENTIAL_SID", WEB_PUSH)
        .env("TWILIO_PUSH_CREDENTIALS", &format!("ios={IOS_PUSH}"))
        .spawn()
        .await;
    assert_eq!(app.register("ann@example.com", GOOD).await.status(), 200);
    let (mut cases, mut ours) = (Vec::new(), Vec::new());
    for (form, push) in [(&[("platform", "ios")][..], IOS_PUSH), (&[], WEB_PUSH)] {
        let body: IssuedChatToken = common::answer(app.post_form("/api/chat_token", form).await, 200).await;
        // The case is the token's own identity and time, with the grant the platform should get.
        let claims = decode(body.token.split('.').nth(1).unwrap());
        let mut case = Case::new(claims["grants"]["identity"].as_str().unwrap());
        case.now = claims["iat"].as_u64().unwrap();
        case.chat.push_credential_sid = Some(push.into());
        cases.push(case);
        ours.push(body.token);
    }
    let theirs = node_tokens(&cases);
    for ((case, ours), theirs) in cases.iter().zip(&ours).zip(theirs.as_array().unwrap()) {
        let theirs = theirs["token"].as_str().unwrap_or_else(|| panic!("node refused: {theirs}"));
        assert_eq!(ours, theirs, "push credential {:?}", case.chat.push_credential_sid);
    }
}
