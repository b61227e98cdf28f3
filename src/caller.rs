//! Who is asking: the account behind a request, from the one credential it carries. Every
//! way in ends at an account; the credential proves which one and never chooses the chat
//! identity.
//!
//! A request with an `Authorization` header is judged by it alone: on the routes that take
//! one, the security layer has already dropped its cookies. One without is judged by its
//! session cookie.

use axum::http::{header, request::Parts, HeaderMap};
use leptos::prelude::{use_context, with_context};

use crate::{
    db::{device_tokens, users::User},
    error::AppError,
    state::{app_state, auth_session},
};

/// The account asking: a device token's (`Authorization: Bearer`), else the session's.
/// 401 `invalid_token` for a bearer that names no live device token, 401 `not_signed_in`
/// with neither.
pub async fn account() -> Result<User, AppError> {
    // Read in place: copying the request's parts would cost every token request its headers.
    let bearer = with_context::<Parts, _>(|parts| bearer_token(&parts.headers)).transpose()?.flatten();
    match bearer {
        Some(Bearer::Device(hash)) => device_account(&hash).await,
        Some(Bearer::Jwt(token)) => provider_account(&token).await,
        None => auth_session().await?.user.ok_or(AppError::NotSignedIn),
    }
}

/// The two kinds of bearer: a device token of ours (by its stored hash), or an access
/// token of the team's OpenID provider (a JWT; only when one is configured).
#[derive(Debug, PartialEq, Eq)]
enum Bearer {
    Device(String),
    Jwt(String),
}

/// The account of the provider's user an access token names: linked, or linked now when the
/// token itself carries a verified email; 403 `no_account` otherwise. 401 `invalid_token`
/// for a token that does not verify, 503 when no key can be had for it.
async fn provider_account(token: &str) -> Result<User, AppError> {
    use crate::idp::{access_token, account_for, Provider, ProviderUser, Refusal};
    let Some(provider) = use_context::<std::sync::Arc<Provider>>() else {
        tracing::info!("bearer refused: a JWT, and no OpenID provider is configured");
        return Err(AppError::InvalidToken);
    };
    let claims = access_token::verify(&provider, token).await.map_err(|rejected| match rejected {
        access_token::Rejected::Invalid(why) => {
            tracing::info!(why, "provider access token refused");
            AppError::InvalidToken
        }
        access_token::Rejected::ProviderUnavailable => AppError::Unavailable,
    })?;
    let who = ProviderUser {
        issuer: &claims.iss,
        subject: &claims.sub,
        email: claims.email.as_deref(),
        email_verified: claims.email_verified,
    };
    let now = std::time::UNIX_EPOCH.elapsed().map_or(0, |d| d.as_secs() as i64);
    account_for(&app_state()?.pool, &who, now).await.map_err(|refusal| match refusal {
        Refusal::Failed(e) => e,
        other => {
            tracing::info!(refusal = ?other, "provider access token of a user with no account");
            AppError::NoAccount
        }
    })
}

/// The stored hash of the request's bearer token; `None` without an `Authorization`
/// header. Two headers, another scheme, or anything that cannot be one of our tokens is
/// `invalid_token` (RFC 6750), never a lookup.
fn bearer_token(headers: &HeaderMap) -> Result<Option<Bearer>, AppError> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    let refused = |why: &'static str| {
        tracing::info!(why, "device token refused");
        AppError::InvalidToken
    };
    if values.next().is_some() {
        return Err(refused("two Authorization headers"));
    }
    let value = value.to_str().map_err(|_| refused("not visible ASCII"))?;
    let (scheme, token) = value.split_once(' ').ok_or_else(|| refused("no scheme or no token"))?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(refused("not the Bearer scheme"));
    }
    let token = token.trim_matches(' ');
    if token.starts_with(device_tokens::PREFIX) {
        return device_tokens::parse(token)
            .map(|hash| Some(Bearer::Device(hash)))
            .ok_or_else(|| refused("not a device token"));
    }
    // A JWT: three base64url segments. Anything else is neither kind.
    let jwt = token.len() <= MAX_JWT_BYTES
        && token.split('.').count() == 3
        && token.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if jwt {
        Ok(Some(Bearer::Jwt(token.to_string())))
    } else {
        Err(refused("neither a device token nor a JWT"))
    }
}

/// Longer access tokens than this are refused unread.
const MAX_JWT_BYTES: usize = 8 * 1024;

/// The account whose device token has `hash`; its use recorded at most once a minute.
async fn device_account(hash: &str) -> Result<User, AppError> {
    let pool = &app_state()?.pool;
    let Some((user, last_used_at)) = device_tokens::owner(pool, hash).await? else {
        tracing::info!("device token refused: unknown or revoked");
        return Err(AppError::InvalidToken);
    };
    let now = std::time::UNIX_EPOCH.elapsed().map_or(0, |d| d.as_secs() as i64);
    if last_used_at.is_none_or(|at| now - at >= device_tokens::LAST_USED_EVERY_SECS) {
        // A lost write costs only the list's "last used"; the request goes on.
        if let Err(e) = device_tokens::mark_used(pool, hash, now).await {
            tracing::warn!(error = %e, user.id = user.id, "could not record a device token's use");
        }
    }
    Ok(user)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&[u8]]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append(header::AUTHORIZATION, axum::http::HeaderValue::from_bytes(v).unwrap());
        }
        map
    }

    #[test]
    fn only_one_well_formed_bearer_is_looked_up() {
        let token = device_tokens::generate();
        let good = format!("Bearer {}", token.raw);
        assert_eq!(bearer_token(&headers(&[])).unwrap(), None);
        assert_eq!(
            bearer_token(&headers(&[good.as_bytes()])).unwrap(),
            Some(Bearer::Device(token.hash.clone()))
        );
        let lower = format!("bearer {}", token.raw);
        assert_eq!(
            bearer_token(&headers(&[lower.as_bytes()])).unwrap(),
            Some(Bearer::Device(token.hash.clone()))
        );
        let jwt = b"Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln";
        assert!(matches!(bearer_token(&headers(&[jwt])), Ok(Some(Bearer::Jwt(_)))));
        let basic = format!("Basic {}", token.raw);
        let long = format!("Bearer {}", "a".repeat(10 * 1024));
        let nul_free_non_ascii = "Bearer cpd_é".as_bytes().to_vec();
        for bad in [
            b"Bearer".as_slice(),
            b"Bearer ",
            b"",
            basic.as_bytes(),
            long.as_bytes(),
            &nul_free_non_ascii,
            b"Bearer cpd_abc",
        ] {
            assert_eq!(bearer_token(&headers(&[bad])), Err(AppError::InvalidToken), "{bad:?}");
        }
        assert_eq!(bearer_token(&headers(&[good.as_bytes(), good.as_bytes()])), Err(AppError::InvalidToken));
    }
}
