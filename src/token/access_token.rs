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

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use jsonwebtoken::crypto::{rust_crypto::DEFAULT_PROVIDER, JwtSigner};
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
    /// Names this key in each thread's signer cache; clones share it (same bytes).
    id: u64,
}

impl SigningKey {
    /// The key is the secret's UTF-8 bytes, as twilio-node uses it.
    pub fn new(secret: &str) -> Result<Self, TokenError> {
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        if secret.is_empty() {
            return Err(TokenError::EmptySecret);
        }
        Ok(Self {
            key: EncodingKey::from_secret(secret.as_bytes()),
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        })
    }

    /// HMAC-SHA256 of `message` by jsonwebtoken's signer for this key.
    ///
    /// `jsonwebtoken::crypto::sign` builds a boxed signer and keys the HMAC (two SHA-256
    /// blocks) on every call. Its signer is not `Send`, so it cannot live in the key, which
    /// worker threads share: each thread keeps the signers of its last few keys instead.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, TokenError> {
        /// Keys alive at once are few (one issuer per process; tests make more).
        const KEPT: usize = 4;
        thread_local! {
            static SIGNERS: RefCell<Vec<(u64, Box<dyn JwtSigner>)>> = const { RefCell::new(Vec::new()) };
        }
        SIGNERS.with_borrow_mut(|signers| {
            let at = match signers.iter().position(|(id, _)| *id == self.id) {
                Some(at) => at,
                None => {
                    let signer = (DEFAULT_PROVIDER.signer_factory)(&Algorithm::HS256, &self.key)
                        .map_err(|_| TokenError::Signing)?;
                    if signers.len() == KEPT {
                        signers.remove(0);
                    }
                    signers.push((self.id, signer));
                    signers.len() - 1
                }
            };
            signers[at].1.try_sign(message).map_err(|_| TokenError::Signing)
        })
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

/// The encoded header of every token without a region: `{"alg":"HS256","typ":"JWT","cty":"twilio-fpa;v=1"}`
/// (a test checks it against `Header`).
const HEADER: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImN0eSI6InR3aWxpby1mcGE7dj0xIn0";

/// The base64url header for tokens with this region (`None`: none).
fn encoded_header(region: Option<&str>) -> Result<String, TokenError> {
    let header = Header { alg: "HS256", typ: "JWT", cty: CONTENT_TYPE, twr: present(region) };
    Ok(URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).map_err(|_| TokenError::Signing)?))
}

/// `header.payload.signature`: the encoded header, `payload` encoded, and the signature
/// of both, in one string sized exactly.
fn signed(header: &str, payload: &[u8], key: &SigningKey) -> Result<String, TokenError> {
    let mut jwt = String::with_capacity(header.len() + encoded_len(payload.len()) + encoded_len(32) + 2);
    jwt.push_str(header);
    jwt.push('.');
    URL_SAFE_NO_PAD.encode_string(payload, &mut jwt);
    let signature = key.sign(jwt.as_bytes())?;
    jwt.push('.');
    URL_SAFE_NO_PAD.encode_string(&signature, &mut jwt);
    Ok(jwt)
}

/// One issuer's tokens differ only in identity, `iat` and `exp`: the rest of the header and
/// payload is written (and escaped, by serde_json) once, here. [`Template::to_jwt`] writes
/// the same bytes as [`AccessToken::to_jwt`] for the same fields (a test compares them);
/// it saves the escaping scan of the SIDs and serde's field-by-field work on each token.
#[derive(Debug, Clone)]
pub struct Template {
    account_sid: String,
    api_key_sid: String,
    header: String,
    /// `{"jti":"<key SID>-` (the jti's string continues with `iat`).
    jti_open: String,
    /// `,"chat":{...}}` (closes `grants`).
    chat_close: String,
    /// `,"iss":"<key SID>","sub":"<account SID>"}`.
    tail: String,
}

impl Template {
    pub fn new(
        account_sid: &str,
        api_key_sid: &str,
        chat: &ChatGrant,
        region: Option<&str>,
    ) -> Result<Self, TokenError> {
        fn json<T: Serialize + ?Sized>(value: &T) -> Result<String, TokenError> {
            serde_json::to_string(value).map_err(|_| TokenError::Signing)
        }
        let key = json(api_key_sid)?;
        let chat = ChatPayload {
            service_sid: present(Some(&chat.service_sid)),
            endpoint_id: present(chat.endpoint_id.as_deref()),
            deployment_role_sid: present(chat.deployment_role_sid.as_deref()),
            push_credential_sid: present(chat.push_credential_sid.as_deref()),
        };
        Ok(Template {
            account_sid: account_sid.to_owned(),
            api_key_sid: api_key_sid.to_owned(),
            header: encoded_header(region)?,
            jti_open: format!("{{\"jti\":{}-", &key[..key.len() - 1]),
            chat_close: format!(",\"chat\":{}}}", json(&chat)?),
            tail: format!(",\"iss\":{key},\"sub\":{}}}", json(account_sid)?),
        })
    }

    /// Signs the token for `identity` issued at `now` (seconds since the epoch), valid for
    /// `ttl` seconds, with `key`.
    pub fn to_jwt(
        &self,
        key: &SigningKey,
        identity: &str,
        ttl: u32,
        now: u64,
    ) -> Result<SignedToken, TokenError> {
        if identity.is_empty() {
            return Err(TokenError::EmptyIdentity);
        }
        if self.account_sid.is_empty() {
            return Err(TokenError::EmptyAccountSid);
        }
        if self.api_key_sid.is_empty() {
            return Err(TokenError::EmptyApiKeySid);
        }
        let exp = now + u64::from(ttl);
        let mut json = Vec::with_capacity(
            self.jti_open.len() + self.chat_close.len() + self.tail.len() + identity.len() + 96,
        );
        let number =
            |json: &mut Vec<u8>, n: u64| serde_json::to_writer(json, &n).map_err(|_| TokenError::Signing);
        json.extend_from_slice(self.jti_open.as_bytes());
        number(&mut json, now)?;
        json.extend_from_slice(b"\",\"grants\":{\"identity\":");
        serde_json::to_writer(&mut json, identity).map_err(|_| TokenError::Signing)?;
        json.extend_from_slice(self.chat_close.as_bytes());
        json.extend_from_slice(b",\"iat\":");
        number(&mut json, now)?;
        json.extend_from_slice(b",\"exp\":");
        number(&mut json, exp)?;
        json.extend_from_slice(self.tail.as_bytes());
        let jwt = signed(&self.header, &json, key)?;
        Ok(SignedToken { jwt, jti: format!("{}-{}", self.api_key_sid, now), iat: now, exp })
    }
}

/// Length of `n` bytes in base64url without padding.
const fn encoded_len(n: usize) -> usize {
    (n * 4).div_ceil(3)
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
        let mut json = Vec::with_capacity(320);
        serde_json::to_writer(&mut json, &payload).map_err(|_| TokenError::Signing)?;
        let jwt = match present(self.region) {
            None => signed(HEADER, &json, self.secret)?,
            Some(region) => signed(&encoded_header(Some(region))?, &json, self.secret)?,
        };
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
    fn the_stored_header_is_the_header_encoded() {
        let header = Header { alg: "HS256", typ: "JWT", cty: CONTENT_TYPE, twr: None };
        assert_eq!(HEADER, URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap()));
    }

    #[test]
    fn each_key_signs_with_its_own_secret_however_many_keys_a_thread_has_seen() {
        use hmac::{Hmac, Mac};
        let chat = grant();
        // More keys than a thread keeps, then the first ones again (evicted and re-made),
        // and a clone, which shares its original's cached signer.
        let keys: Vec<(String, SigningKey)> = (0..10)
            .map(|i| format!("secret-{i}"))
            .map(|s| (s.clone(), SigningKey::new(&s).unwrap()))
            .collect();
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
            assert_eq!(
                signature,
                URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()),
                "signed with {secret}"
            );
        }
    }

    #[test]
    fn signing_key_debug_hides_the_secret() {
        let key = SigningKey::new("hunter2-very-secret").unwrap();
        assert!(!format!("{key:?}").contains("hunter2"));
    }
}
