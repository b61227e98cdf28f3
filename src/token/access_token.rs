//! Twilio Access Tokens with a Chat grant, byte for byte as Twilio's Node helper library
//! (`twilio` on npm, `AccessToken.toJwt()`) writes them: checked against twilio-node and
//! twilio-python in `tests/integration/token_conformance.rs`. Pure: the caller passes `now`.
//! The structs below are the layout, their fields in twilio-node's key order; serde_json
//! escapes what `JSON.stringify` escapes (`"`, `\`, control characters; U+2028 and
//! non-ASCII stay raw UTF-8); base64url without padding; HMAC-SHA256 of the secret's bytes.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use jsonwebtoken::{crypto, Algorithm, EncodingKey};
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

/// The API secret as an HMAC key (its UTF-8 bytes, as twilio-node uses it), made once
/// by the issuer. Its `Debug` shows nothing of the secret (`EncodingKey`'s is redacted).
#[derive(Clone, Debug)]
pub struct SigningKey(EncodingKey);

impl SigningKey {
    pub fn new(secret: &str) -> Result<Self, TokenError> {
        if secret.is_empty() {
            return Err(TokenError::EmptySecret);
        }
        Ok(Self(EncodingKey::from_secret(secret.as_bytes())))
    }
}

/// The Chat grant (`grants.chat`). twilio-node writes a field only when its value is
/// truthy, so an empty or missing one is left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ChatGrant {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub service_sid: String,
    #[serde(skip_serializing_if = "absent")]
    pub endpoint_id: Option<String>,
    #[serde(skip_serializing_if = "absent")]
    pub deployment_role_sid: Option<String>,
    #[serde(skip_serializing_if = "absent")]
    pub push_credential_sid: Option<String>,
}

fn absent(value: &Option<String>) -> bool {
    value.as_deref().is_none_or(str::is_empty)
}

/// One token to sign, borrowed from the issuer.
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

/// `jsonwebtoken::Header` writes `typ` before `alg`: not twilio-node's bytes.
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
    chat: &'a ChatGrant,
}

impl AccessToken<'_> {
    /// Signs the token as issued at `now` (seconds since the epoch).
    pub fn to_jwt(&self, now: u64) -> Result<SignedToken, TokenError> {
        let required = [
            (self.identity, TokenError::EmptyIdentity),
            (self.account_sid, TokenError::EmptyAccountSid),
            (self.api_key_sid, TokenError::EmptyApiKeySid),
        ];
        if let Some((_, missing)) = required.into_iter().find(|(value, _)| value.is_empty()) {
            return Err(missing);
        }
        let jti = format!("{}-{}", self.api_key_sid, now);
        let exp = now + u64::from(self.ttl);
        let twr = self.region.filter(|r| !r.is_empty());
        let header = Header { alg: "HS256", typ: "JWT", cty: CONTENT_TYPE, twr };
        let payload = Payload {
            jti: &jti,
            grants: Grants { identity: self.identity, chat: self.chat },
            nbf: self.nbf,
            iat: now,
            exp,
            iss: self.api_key_sid,
            sub: self.account_sid,
        };
        let message = format!("{}.{}", base64_json(&header)?, base64_json(&payload)?);
        let signature = crypto::sign(message.as_bytes(), &self.secret.0, Algorithm::HS256)
            .map_err(|_| TokenError::Signing)?;
        Ok(SignedToken { jwt: format!("{message}.{signature}"), jti, iat: now, exp })
    }
}

fn base64_json(value: &impl Serialize) -> Result<String, TokenError> {
    Ok(URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).map_err(|_| TokenError::Signing)?))
}

#[cfg(test)]
mod tests;
