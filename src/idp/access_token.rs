//! An access token the provider issued to an app (a JWT), checked as RFC 9068 says: the
//! signature by one of the provider's keys (the algorithm the key is for, never `none` or
//! an HMAC), `iss` exact, `aud` holding chatpass's audience, `exp` and `nbf` within 60 s.

use jsonwebtoken::{
    jwk::{AlgorithmParameters, EllipticCurve, Jwk},
    Algorithm, DecodingKey, Validation,
};
use serde::Deserialize;

use super::provider::Provider;

/// Clock skew allowed on `exp` and `nbf`, in seconds.
pub const LEEWAY_SECS: u64 = 60;

/// The claims chatpass reads: who the provider's user is, and their email if it says.
#[derive(Debug, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub sub: String,
    /// A JSON string; anything else is no email (not a refused token).
    #[serde(default, deserialize_with = "json_string")]
    pub email: Option<String>,
    /// A JSON boolean: the string `"true"` (or anything else) does not count, and does not
    /// make the token unreadable (a linked user's token still names them).
    #[serde(default, deserialize_with = "json_bool")]
    pub email_verified: Option<bool>,
}

fn json_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Some(s),
        _ => None,
    })
}

fn json_bool<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Bool(b) => Some(b),
        _ => None,
    })
}

/// Why a bearer JWT is not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejected {
    /// 401 `invalid_token`: forged, expired, for someone else, or not a JWT of this provider.
    Invalid(&'static str),
    /// 503: no key for its `kid`, and the provider cannot be asked (down, or not discovered yet).
    ProviderUnavailable,
}

/// The claims of `token`, once the provider's key has verified it.
pub async fn verify(provider: &Provider, token: &str) -> Result<AccessClaims, Rejected> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| Rejected::Invalid("not a JWT"))?;
    let kid = header.kid.as_deref();
    let jwk = match provider.keys().and_then(|keys| find_key(&keys.keys, kid)) {
        Some(jwk) => jwk,
        None => {
            // A key id not seen yet: the provider may have rotated its keys.
            if !provider.refetch().await && provider.keys().is_none() {
                return Err(Rejected::ProviderUnavailable);
            }
            match provider.keys().and_then(|keys| find_key(&keys.keys, kid)) {
                Some(jwk) => jwk,
                // The keys are fresh: no such key.
                None if provider.is_discovered() && !provider.last_fetch_failed() => {
                    return Err(Rejected::Invalid("no key of the provider has that kid"))
                }
                // The provider could not be asked the last time: it may have that key.
                None => return Err(Rejected::ProviderUnavailable),
            }
        }
    };
    let algorithm = algorithm_of(&jwk)
        .ok_or(Rejected::Invalid("the provider's key is of a kind chatpass does not verify"))?;
    if header.alg != algorithm {
        return Err(Rejected::Invalid("the token's alg is not its key's"));
    }
    let key = DecodingKey::from_jwk(&jwk).map_err(|_| Rejected::Invalid("unreadable provider key"))?;
    let mut validation = Validation::new(algorithm);
    validation.set_issuer(&[provider.settings.issuer.as_str()]);
    validation.set_audience(&[provider.settings.audience.as_str()]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.leeway = LEEWAY_SECS;
    validation.validate_nbf = true;
    jsonwebtoken::decode::<AccessClaims>(token, &key, &validation)
        .map(|data| data.claims)
        .map_err(|_| Rejected::Invalid("signature, issuer, audience or time refused"))
}

/// The key `kid` names; a token without a `kid` only when the provider has one key.
fn find_key(keys: &[Jwk], kid: Option<&str>) -> Option<Jwk> {
    match kid {
        Some(kid) => keys.iter().find(|k| k.common.key_id.as_deref() == Some(kid)).cloned(),
        None if keys.len() == 1 => keys.first().cloned(),
        None => None,
    }
}

/// The one algorithm a public key verifies: from its kind and curve (RSA: RS256 unless the
/// key says otherwise). Symmetric keys verify nothing here: a provider's keys are public.
fn algorithm_of(jwk: &Jwk) -> Option<Algorithm> {
    let stated = jwk.common.key_algorithm.and_then(|a| a.to_string().parse::<Algorithm>().ok());
    match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => match stated {
            Some(
                a @ (Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::PS256
                | Algorithm::PS384
                | Algorithm::PS512),
            ) => Some(a),
            None => Some(Algorithm::RS256),
            Some(_) => None,
        },
        AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
            EllipticCurve::P256 => Some(Algorithm::ES256),
            EllipticCurve::P384 => Some(Algorithm::ES384),
            _ => None,
        },
        AlgorithmParameters::OctetKeyPair(_) => Some(Algorithm::EdDSA),
        _ => None,
    }
}
