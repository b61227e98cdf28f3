//! Accounts: the server functions the pages call (shared by server and browser), and,
//! on the server, their handlers and the rate limits they apply.
//!
//! Convention for every server function in this crate: the `#[server]` function is a
//! one-line forward to a plain `async fn` of the same name in the feature's `handlers`
//! module (server only), which does the work.

use leptos::prelude::*;

use crate::error::AppError;

#[cfg(feature = "ssr")]
mod handlers;
#[cfg(feature = "ssr")]
pub mod limits;
pub mod next;
mod user_info;

pub use next::{safe_next, AFTER_LOGIN};
pub use user_info::UserInfo;

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
