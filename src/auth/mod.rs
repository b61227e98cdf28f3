//! Accounts: the server functions the pages call (shared by server and browser), and,
//! on the server, their handlers and the rate limits they apply.
//!
//! Convention for every server function in this crate: the `#[server]` function is a
//! one-line forward to a plain `async fn` of the same name in the feature's `handlers`
//! module (server only), which does the work.

use leptos::prelude::*;

use crate::error::AppError;

#[cfg(feature = "ssr")]
mod form_post;
#[cfg(feature = "ssr")]
mod handlers;
#[cfg(feature = "ssr")]
mod lifecycle;
#[cfg(feature = "ssr")]
pub mod limits;
pub mod next;
mod outcome;
#[cfg(feature = "ssr")]
mod session_error;
pub mod sessions_list;
mod user_info;
#[cfg(feature = "ssr")]
mod verification;

#[cfg(feature = "ssr")]
pub use handlers::{check_credentials, start_session_with};
pub use next::{safe_next, AFTER_LOGIN};
pub use outcome::{ForgotOutcome, ResendOutcome, SignupOutcome};
pub use user_info::{AccountInfo, DisplayNameInfo, UserInfo};

/// Starts an account. With email verification (the default) it takes only the email,
/// answers 202 `{"status":"check_your_inbox"}` whether or not it has an account, and mails
/// the address a link whose page asks for the password and name (`password` and
/// `display_name` are ignored). With `CHATPASS_EMAIL_VERIFICATION=off` it needs
/// `password`, takes an optional `display_name`, and signs the new account in.
#[server(prefix = "/api", endpoint = "signup")]
pub async fn signup(
    email: String,
    password: Option<String>,
    display_name: Option<String>,
) -> Result<SignupOutcome, AppError> {
    handlers::signup(email, password, display_name).await
}

/// Uses the link's token with the password (and optional display name) its owner chose on
/// the link's page: the email is proven, every other session and link of the account
/// ends, and this browser is signed in. An email proven before is 409, with no session.
#[server(prefix = "/api", endpoint = "verify_email")]
pub async fn verify_email(
    token: String,
    password: String,
    display_name: Option<String>,
) -> Result<UserInfo, AppError> {
    handlers::verify_email(token, password, display_name).await
}

/// Mails the signed-in user a new verification link (rate limited).
#[server(prefix = "/api", endpoint = "resend_verification")]
pub async fn resend_verification() -> Result<ResendOutcome, AppError> {
    handlers::resend_verification().await
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

/// Mails a link to choose a new password, when the email has an account. Always 202
/// `{"status":"check_your_inbox"}`, in the same time either way.
#[server(prefix = "/api", endpoint = "forgot_password")]
pub async fn forgot_password(email: String) -> Result<ForgotOutcome, AppError> {
    handlers::forgot_password(email).await
}

/// Uses the reset link's token: sets `password`, ends every session of the account and
/// signs this browser in.
#[server(prefix = "/api", endpoint = "reset_password")]
pub async fn reset_password(token: String, password: String) -> Result<UserInfo, AppError> {
    handlers::reset_password(token, password).await
}

/// Changes the signed-in user's password; every other session of theirs ends.
#[server(prefix = "/api", endpoint = "change_password")]
pub async fn change_password(current_password: String, new_password: String) -> Result<(), AppError> {
    handlers::change_password(current_password, new_password).await
}

/// Deletes the signed-in user's account, after checking their password.
#[server(prefix = "/api", endpoint = "delete_account")]
pub async fn delete_account(password: String) -> Result<(), AppError> {
    handlers::delete_account(password).await
}

/// Sets the signed-in user's display name; every session stays signed in.
#[server(prefix = "/api", endpoint = "set_display_name")]
pub async fn set_display_name(display_name: String) -> Result<DisplayNameInfo, AppError> {
    handlers::set_display_name(display_name).await
}

/// The signed-in account, for the account page.
#[server(prefix = "/api", endpoint = "account")]
pub async fn account() -> Result<AccountInfo, AppError> {
    handlers::account().await
}
