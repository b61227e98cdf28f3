//! Accounts: the server functions the pages call (shared by server and browser), and,
//! on the server, the axum-login backend, password hashing and rate limits.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[cfg(feature = "ssr")]
pub mod backend;
#[cfg(feature = "ssr")]
mod handlers;
#[cfg(feature = "ssr")]
pub mod limits;
#[cfg(feature = "ssr")]
pub mod password;

/// What the browser may know about the signed-in user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    pub email: String,
}

/// Where to go after signing in when no (safe) `next` is given.
pub const AFTER_LOGIN: &str = "/chat";

/// `next` is followed only when it is a path on this site: it starts with one `/`,
/// is not `//host` or `/\host`, and is plain visible ASCII.
pub fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.starts_with("/\\")
                && path.len() <= 2048
                && path.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            path
        }
        _ => AFTER_LOGIN,
    }
}

/// Creates an account and signs it in.
#[server(prefix = "/api", endpoint = "signup")]
pub async fn signup(email: String, password: String) -> Result<(), AppError> {
    handlers::signup(email, password).await
}

/// Signs in; then goes to `next` when it is a path on this site.
#[server(prefix = "/api", endpoint = "login")]
pub async fn login(email: String, password: String, next: Option<String>) -> Result<(), AppError> {
    handlers::login(email, password, next).await
}

/// Ends the session on the server: the old cookie is worthless afterwards.
#[server(prefix = "/api", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    handlers::logout().await
}

/// The signed-in user, or `None`.
#[server(prefix = "/api", endpoint = "current_user")]
pub async fn current_user() -> Result<Option<UserInfo>, AppError> {
    handlers::current_user().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_followed_only_within_the_site() {
        assert_eq!(safe_next(Some("/chat")), "/chat");
        assert_eq!(safe_next(Some("/chat?room=a")), "/chat?room=a");
        for bad in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "chat",
            "",
            "/ch at",
            "/caf\u{e9}",
            "javascript:alert(1)",
        ] {
            assert_eq!(safe_next(Some(bad)), AFTER_LOGIN, "{bad:?}");
        }
        assert_eq!(safe_next(None), AFTER_LOGIN);
        assert_eq!(AFTER_LOGIN, "/chat");
    }
}
