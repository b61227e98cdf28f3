//! Who is asking: the account behind a request, from the one credential it carries. Every
//! way in ends at an account; the credential proves which one and never chooses the chat
//! identity.
//!
//! A request with an `Authorization` header is judged by it alone: on the routes that take
//! one, the security layer has already dropped its cookies. One without is judged by its
//! session cookie.

use axum::http::{header, request::Parts, HeaderMap};
use leptos::prelude::use_context;

use crate::{
    db::{device_tokens, users::User},
    error::AppError,
    state::{app_state, auth_session},
};

/// The account asking: a device token's (`Authorization: Bearer`), else the session's.
/// 401 `invalid_token` for a bearer that names no live device token, 401 `not_signed_in`
/// with neither.
pub async fn account() -> Result<User, AppError> {
    let bearer = use_context::<Parts>().map(|parts| bearer_token(&parts.headers)).transpose()?.flatten();
    match bearer {
        Some(hash) => device_account(&hash).await,
        None => auth_session().await?.user.ok_or(AppError::NotSignedIn),
    }
}

/// The stored hash of the request's bearer token; `None` without an `Authorization`
/// header. Two headers, another scheme, or anything that cannot be one of our tokens is
/// `invalid_token` (RFC 6750), never a lookup.
fn bearer_token(headers: &HeaderMap) -> Result<Option<String>, AppError> {
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
    device_tokens::parse(token.trim_matches(' ')).map(Some).ok_or_else(|| refused("not a device token"))
}

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
        assert_eq!(bearer_token(&headers(&[good.as_bytes()])).unwrap().as_deref(), Some(token.hash.as_str()));
        let lower = format!("bearer {}", token.raw);
        assert_eq!(
            bearer_token(&headers(&[lower.as_bytes()])).unwrap().as_deref(),
            Some(token.hash.as_str())
        );
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
