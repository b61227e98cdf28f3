use super::*;

const ACCOUNT: &str = "AC00000000000000000000000000000000";
const KEY: &str = "SK00000000000000000000000000000000";

fn grant() -> ChatGrant {
    ChatGrant { service_sid: "IS00000000000000000000000000000000".into(), ..Default::default() }
}

fn decode_part(part: &str) -> String {
    String::from_utf8(URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

#[test]
fn header_and_payload_follow_twilio_node_key_order() {
    let key = SigningKey::new("secret").unwrap();
    let chat = grant();
    let token = AccessToken {
        account_sid: ACCOUNT,
        api_key_sid: KEY,
        secret: &key,
        identity: "ann@example.com",
        ttl: 3600,
        nbf: None,
        region: None,
        chat: &chat,
    };
    let signed = token.to_jwt(1_700_000_000).unwrap();
    let parts: Vec<&str> = signed.jwt.split('.').collect();
    assert_eq!(parts.len(), 3);
    assert_eq!(decode_part(parts[0]), r#"{"alg":"HS256","typ":"JWT","cty":"twilio-fpa;v=1"}"#);
    assert_eq!(
        decode_part(parts[1]),
        format!(
            r#"{{"jti":"{KEY}-1700000000","grants":{{"identity":"ann@example.com","chat":{{"service_sid":"IS00000000000000000000000000000000"}}}},"iat":1700000000,"exp":1700003600,"iss":"{KEY}","sub":"{ACCOUNT}"}}"#
        )
    );
    assert_eq!(signed.jti, format!("{KEY}-1700000000"));
    assert_eq!(signed.exp, 1_700_003_600);
}

#[test]
fn region_and_nbf_and_optional_chat_fields_appear_in_place() {
    let key = SigningKey::new("secret").unwrap();
    let chat = ChatGrant {
        service_sid: "IS1".into(),
        endpoint_id: Some("ep".into()),
        deployment_role_sid: Some("RL1".into()),
        push_credential_sid: Some("CR1".into()),
    };
    let token = AccessToken {
        account_sid: ACCOUNT,
        api_key_sid: KEY,
        secret: &key,
        identity: "x",
        ttl: 180,
        nbf: Some(5),
        region: Some("ie1"),
        chat: &chat,
    };
    let jwt = token.to_jwt(10).unwrap().jwt;
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(decode_part(parts[0]), r#"{"alg":"HS256","typ":"JWT","cty":"twilio-fpa;v=1","twr":"ie1"}"#);
    assert!(decode_part(parts[1]).contains(
        r#""chat":{"service_sid":"IS1","endpoint_id":"ep","deployment_role_sid":"RL1","push_credential_sid":"CR1"}},"nbf":5,"iat":10,"exp":190,"#
    ));
}

#[test]
fn empty_identity_and_secret_are_refused() {
    assert_eq!(SigningKey::new("").unwrap_err(), TokenError::EmptySecret);
    let key = SigningKey::new("s").unwrap();
    let chat = grant();
    let token = AccessToken {
        account_sid: ACCOUNT,
        api_key_sid: KEY,
        secret: &key,
        identity: "",
        ttl: 3600,
        nbf: None,
        region: None,
        chat: &chat,
    };
    assert_eq!(token.to_jwt(0).unwrap_err(), TokenError::EmptyIdentity);
}

#[test]
fn empty_values_are_left_out_as_twilio_node_leaves_them() {
    let key = SigningKey::new("secret").unwrap();
    let chat = ChatGrant {
        service_sid: String::new(),
        endpoint_id: Some(String::new()),
        deployment_role_sid: None,
        push_credential_sid: Some("CR1".into()),
    };
    let token = AccessToken {
        account_sid: ACCOUNT,
        api_key_sid: KEY,
        secret: &key,
        identity: "x",
        ttl: 60,
        nbf: None,
        region: Some(""),
        chat: &chat,
    };
    let jwt = token.to_jwt(10).unwrap().jwt;
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(decode_part(parts[0]), r#"{"alg":"HS256","typ":"JWT","cty":"twilio-fpa;v=1"}"#);
    assert!(decode_part(parts[1]).contains(r#""chat":{"push_credential_sid":"CR1"}},"iat":10,"#));
}

#[test]
fn jsonwebtokens_own_header_would_change_the_bytes() {
    let mut theirs = jsonwebtoken::Header::new(Algorithm::HS256);
    theirs.cty = Some(CONTENT_TYPE.into());
    let ours = Header { alg: "HS256", typ: "JWT", cty: CONTENT_TYPE, twr: None };
    assert_eq!(
        serde_json::to_string(&ours).unwrap(),
        r#"{"alg":"HS256","typ":"JWT","cty":"twilio-fpa;v=1"}"#
    );
    assert_ne!(serde_json::to_string(&theirs).unwrap(), serde_json::to_string(&ours).unwrap());
}

#[test]
fn each_key_signs_with_its_own_secret() {
    use hmac::{Hmac, Mac};
    let chat = grant();
    let keys: Vec<(String, SigningKey)> =
        (0..10).map(|i| format!("secret-{i}")).map(|s| (s.clone(), SigningKey::new(&s).unwrap())).collect();
    let clone = keys[3].1.clone();
    let rounds = keys.iter().chain(keys.iter().take(3)).map(|(s, k)| (s.as_str(), k));
    for (secret, key) in rounds.chain([("secret-3", &clone)]) {
        let token = AccessToken {
            account_sid: ACCOUNT,
            api_key_sid: KEY,
            secret: key,
            identity: "ann@example.com",
            ttl: 3600,
            nbf: None,
            region: None,
            chat: &chat,
        };
        let jwt = token.to_jwt(1_700_000_000).unwrap().jwt;
        let (input, signature) = jwt.rsplit_once('.').unwrap();
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(input.as_bytes());
        assert_eq!(signature, URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()), "signed with {secret}");
    }
}

#[test]
fn signing_key_debug_hides_the_secret() {
    let key = SigningKey::new("hunter2-very-secret").unwrap();
    assert!(!format!("{key:?}").contains("hunter2"));
}
