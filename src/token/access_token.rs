//! Twilio Access Tokens with a Chat grant, byte for byte as Twilio's Node helper library
//! (`twilio` on npm, `AccessToken.toJwt()`) writes them. Pure: the caller passes `now`.
//!
//! Layout (checked against twilio-node and twilio-python in `tests/integration/token_conformance.rs`):
//! - header `{"alg":"HS256","typ":"JWT","cty":"twilio-fpa;v=1"}`, plus `"twr":REGION` when set;
//! - payload keys in the order `jti, grants{identity, chat{...}}, nbf?, iat, exp, iss, sub`;
//! - `jti = "<API key SID>-<iat>"`, `exp = iat + ttl`;
//! - compact JSON as `JSON.stringify` writes it (serde_json escapes exactly the same set:
//!   `"`, `\`, and control characters, leaving U+2028 and non-ASCII as raw UTF-8);
//! - base64url without padding; HMAC-SHA256 keyed with the secret's UTF-8 bytes.

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
/// by the issuer. Its `Debug` shows nothing of the secret.
#[derive(Clone)]
pub struct SigningKey(EncodingKey);

impl SigningKey {
    pub fn new(secret: &str) -> Result<Self, TokenError> {
        if secret.is_empty() {
            return Err(TokenError::EmptySecret);
        }
        Ok(Self(EncodingKey::from_secret(secret.as_bytes())))
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(..)")
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

/// One token to sign. Borrowed: the issuer keeps the fields, a token only points at them.
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

/// The header in twilio-node's key order; `jsonwebtoken::Header` writes `typ` before
/// `alg`, which would change the bytes.
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
        let header = Header {
            alg: "HS256",
            typ: "JWT",
            cty: CONTENT_TYPE,
            twr: self.region.filter(|r| !r.is_empty()),
        };
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

/// `value` as compact JSON, base64url without padding.
fn base64_json(value: &impl Serialize) -> Result<String, TokenError> {
    Ok(URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).map_err(|_| TokenError::Signing)?))
}

#[cfg(test)]
mod tests;
