//! Twilio Access Tokens with a Chat grant, byte for byte as Twilio's Node helper library
//! (`twilio` on npm, `AccessToken.toJwt()`) writes them.
//!
//! Pure: no IO, no clock. The caller passes `now` (seconds since the Unix epoch).
//!
//! Layout (checked against twilio-node and twilio-python in `tests/integration/token_conformance.rs`):
//! - header `{"alg":"HS256","typ":"JWT","cty":"twilio-fpa;v=1"}`, plus `"twr":REGION` when set;
//! - payload keys in the order `jti, grants{identity, chat{...}}, nbf?, iat, exp, iss, sub`;
//! - `jti = "<API key SID>-<iat>"`, `exp = iat + ttl`;
//! - compact JSON as `JSON.stringify` writes it (serde_json escapes exactly the same set:
//!   `"`, `\`, and control characters, leaving U+2028 and non-ASCII as raw UTF-8);
//! - base64url without padding; HMAC-SHA256 keyed with the secret's UTF-8 bytes.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde::Serialize;

/// The JWT `cty` Twilio requires.
pub const CONTENT_TYPE: &str = "twilio-fpa;v=1";

/// Why a token could not be made. None of these carries the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("identity is required")]
    EmptyIdentity,
    #[error("the account SID is required")]
    EmptyAccountSid,
    #[error("the API key SID is required")]
    EmptyApiKeySid,
    #[error("the API secret is required")]
    EmptySecret,
    #[error("signing failed")]
    Signing,
}

/// The API secret as an HMAC key, prepared once and reused for every token.
/// Its `Debug` shows nothing of the secret.
#[derive(Clone)]
pub struct SigningKey {
    key: EncodingKey,
}

impl SigningKey {
    /// The key is the secret's UTF-8 bytes, as twilio-node uses it.
    pub fn new(secret: &str) -> Result<Self, TokenError> {
        if secret.is_empty() {
            return Err(TokenError::EmptySecret);
        }
        Ok(Self { key: EncodingKey::from_secret(secret.as_bytes()) })
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(..)")
    }
}

/// The Chat grant (`grants.chat`). Empty optional values are left out, as twilio-node does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChatGrant {
    pub service_sid: String,
    pub endpoint_id: Option<String>,
    pub deployment_role_sid: Option<String>,
    pub push_credential_sid: Option<String>,
}

/// One token to sign. Borrowed, so minting one allocates only its output.
#[derive(Debug, Clone)]
pub struct AccessToken<'a> {
    pub account_sid: &'a str,
    pub api_key_sid: &'a str,
    pub secret: &'a SigningKey,
    pub identity: &'a str,
    /// Seconds from `iat` to `exp`.
    pub ttl: u32,
    /// Not-before, seconds since the epoch (left out when `None`).
    pub nbf: Option<i64>,
    /// Adds `"twr"` to the header (left out when `None` or empty).
    pub region: Option<&'a str>,
    pub chat: &'a ChatGrant,
}

/// A signed token and the claims a caller needs without decoding it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedToken {
    pub jwt: String,
    pub jti: String,
    pub iat: u64,
    pub exp: u64,
}

#[derive(Serialize)]
struct Header<'a> {
    alg: &'static str,
    typ: &'static str,
    cty: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    twr: Option<&'a str>,
}

#[derive(Serialize)]
struct Payload<'a> {
    jti: &'a str,
    grants: Grants<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nbf: Option<i64>,
    iat: u64,
    exp: u64,
    iss: &'a str,
    sub: &'a str,
}

#[derive(Serialize)]
struct Grants<'a> {
    identity: &'a str,
    chat: ChatPayload<'a>,
}

#[derive(Serialize)]
struct ChatPayload<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    service_sid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    endpoint_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deployment_role_sid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    push_credential_sid: Option<&'a str>,
}

/// twilio-node writes a field only when its value is truthy: `""` is left out.
fn present(value: Option<&str>) -> Option<&str> {
    value.filter(|v| !v.is_empty())
}

impl AccessToken<'_> {
    /// Signs the token as issued at `now` (seconds since the epoch).
    pub fn to_jwt(&self, now: u64) -> Result<SignedToken, TokenError> {
        if self.identity.is_empty() {
            return Err(TokenError::EmptyIdentity);
        }
        if self.account_sid.is_empty() {
            return Err(TokenError::EmptyAccountSid);
        }
        if self.api_key_sid.is_empty() {
            return Err(TokenError::EmptyApiKeySid);
        }
        let jti = format!("{}-{}", self.api_key_sid, now);
        let exp = now + u64::from(self.ttl);
        let header = Header { alg: "HS256", typ: "JWT", cty: CONTENT_TYPE, twr: present(self.region) };
        let payload = Payload {
            jti: &jti,
            grants: Grants {
                identity: self.identity,
                chat: ChatPayload {
                    service_sid: present(Some(&self.chat.service_sid)),
                    endpoint_id: present(self.chat.endpoint_id.as_deref()),
                    deployment_role_sid: present(self.chat.deployment_role_sid.as_deref()),
                    push_credential_sid: present(self.chat.push_credential_sid.as_deref()),
                },
            },
            nbf: self.nbf,
            iat: now,
            exp,
            iss: self.api_key_sid,
            sub: self.account_sid,
        };
        let header = serde_json::to_vec(&header).map_err(|_| TokenError::Signing)?;
        let payload = serde_json::to_vec(&payload).map_err(|_| TokenError::Signing)?;
        let mut jwt = String::with_capacity((header.len() + payload.len()) * 4 / 3 + 48);
        URL_SAFE_NO_PAD.encode_string(&header, &mut jwt);
        jwt.push('.');
        URL_SAFE_NO_PAD.encode_string(&payload, &mut jwt);
        let signature = jsonwebtoken::crypto::sign(jwt.as_bytes(), &self.secret.key, Algorithm::HS256)
            .map_err(|_| TokenError::Signing)?;
        jwt.push('.');
        jwt.push_str(&signature);
        Ok(SignedToken { jwt, jti, iat: now, exp })
    }
}

#[cfg(test)]
mod tests {
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
        assert_eq!(
            decode_part(parts[0]),
            r#"{"alg":"HS256","typ":"JWT","cty":"twilio-fpa;v=1","twr":"ie1"}"#
        );
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
    fn signing_key_debug_hides_the_secret() {
        let key = SigningKey::new("hunter2-very-secret").unwrap();
        assert!(!format!("{key:?}").contains("hunter2"));
    }
}
