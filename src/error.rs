//! The app's one error type for everything a server function can answer. It travels to
//! the browser as JSON (`{"error":"bad_input","field":"email","reason":"…"}`), so pages
//! can show it inline, and maps to an HTTP status ([`AppError::status`]; the table is in the
//! README's "Accounts and sessions" section).

use serde::{Deserialize, Serialize};
use server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum AppError {
    /// 400: a field is missing or malformed.
    #[error("{reason}")]
    BadInput { field: String, reason: String },
    /// 401: one generic message for an unknown email and a wrong password.
    #[error("Wrong email or password.")]
    BadCredentials,
    /// 401: the request carries no live session.
    #[error("You are not signed in.")]
    NotSignedIn,
    /// 401: the `Authorization` header names no live device token (unknown, revoked,
    /// malformed, another scheme, or sent twice); answered with RFC 6750's
    /// `WWW-Authenticate: Bearer error="invalid_token"`.
    #[error("This device token is not valid: sign the device in again.")]
    InvalidToken,
    /// 403: the signed-in user has not proven their email yet.
    #[error("Confirm your email first: open the link we mailed you, or ask for a new one.")]
    EmailUnverified,
    /// 403: `CHATPASS_PASSWORD_LOGIN=off`: accounts sign in with the provider only.
    #[error("Sign-in with a password is turned off here: use your organisation's sign-in.")]
    PasswordLoginOff,
    /// 403: a provider's access token whose user has no account here (and no verified email to make one).
    #[error("No account here belongs to this sign-in yet: sign in on the web first.")]
    NoAccount,
    /// 403: a request to the Twilio webhook without Twilio's valid `X-Twilio-Signature`.
    #[error("This request is not signed by Twilio.")]
    BadSignature,
    /// 403: a pre-action webhook for an identity of no account that may chat (deleted,
    /// unproven, or nobody's): Twilio refuses the action.
    #[error("This identity belongs to no account that may chat.")]
    ChatRefused,
    /// 404: no session of the signed-in account has that handle (it ended already, or it
    /// is another account's: the answer is the same).
    #[error("That browser is signed out already.")]
    UnknownSession,
    /// 404: the account has no device by that id (revoked already, or another account's:
    /// the answer is the same).
    #[error("That device is disconnected already.")]
    UnknownDevice,
    /// 409: sign-up with an email that has an account (only with email verification off).
    #[error("An account with this email already exists.")]
    EmailTaken,
    /// 409: a verification link for an email proven already: log in instead (no session).
    #[error("This email is already confirmed. Log in with its password.")]
    AlreadyConfirmed,
    /// 429: too many attempts; `retry_after` seconds until the next one is allowed.
    #[error("Too many attempts. Try again in {retry_after} seconds.")]
    RateLimited { retry_after: u64 },
    /// 503: the database did not answer, or the server is saturated.
    #[error("The service is unavailable right now. Try again shortly.")]
    Unavailable,
    /// 500: our fault. The details are in the server log, never in the answer.
    #[error("Something went wrong on our side.")]
    Internal,
    /// The browser could not reach the server (client side only).
    #[error("Could not reach the server: {0}")]
    Network(String),
}

impl AppError {
    pub fn bad_input(field: &str, reason: impl Into<String>) -> Self {
        AppError::BadInput { field: field.to_string(), reason: reason.into() }
    }

    /// The message for one form field, when this error is about it.
    pub fn for_field(&self, name: &str) -> Option<String> {
        match self {
            AppError::BadInput { field, reason } if field == name => Some(reason.clone()),
            _ => None,
        }
    }

    /// The HTTP status this error is answered with.
    pub fn status(&self) -> u16 {
        match self {
            AppError::BadInput { .. } => 400,
            AppError::BadCredentials | AppError::NotSignedIn | AppError::InvalidToken => 401,
            AppError::EmailUnverified
            | AppError::PasswordLoginOff
            | AppError::NoAccount
            | AppError::BadSignature
            | AppError::ChatRefused => 403,
            AppError::UnknownSession | AppError::UnknownDevice => 404,
            AppError::EmailTaken | AppError::AlreadyConfirmed => 409,
            AppError::RateLimited { .. } => 429,
            AppError::Unavailable => 503,
            AppError::Internal => 500,
            AppError::Network(_) => 503,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // The request could not be read: the client's to fix.
            ServerFnErrorErr::Args(reason) => match missing_field(&reason) {
                Some(field) => AppError::bad_input(field, "This field is required."),
                None => AppError::bad_input("request", reason),
            },
            ServerFnErrorErr::MissingArg(field) => AppError::bad_input(&field, "This field is required."),
            // On the server, a request body that cannot be read (not UTF-8) is the client's
            // to fix; in the browser, a garbled answer is a network problem.
            ServerFnErrorErr::Deserialization(_) if cfg!(feature = "ssr") => {
                AppError::bad_input("request", "The request body could not be read: send UTF-8 form data.")
            }
            ServerFnErrorErr::Request(reason) | ServerFnErrorErr::Deserialization(reason) => {
                AppError::Network(reason)
            }
            _ => AppError::Internal,
        }
    }
}

/// serde's "missing field `name`" names the field the form left out.
fn missing_field(reason: &str) -> Option<&str> {
    let rest = reason.split_once("missing field `")?.1;
    rest.split_once('`').map(|(field, _)| field)
}

#[cfg(feature = "ssr")]
impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        if is_unavailable(&error) {
            tracing::warn!(error = %error, "database unavailable");
            return AppError::Unavailable;
        }
        tracing::error!(error = %error, "database error");
        AppError::Internal
    }
}

/// Errors that mean "the database cannot be reached right now" (503, try again) rather
/// than "our query is wrong" (500): no connection, a connection lost, a server shutting
/// down (PostgreSQL SQLSTATE class 08 "connection exception", 57P0x "operator
/// intervention"), SQLite busy (5 and its extended codes 261, 517, 773).
#[cfg(feature = "ssr")]
fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(e) => e.code().is_some_and(|code| {
            // 08: connection, 57P: shutdown, 40001/40P01: serialization failure or deadlock
            // (PostgreSQL: the transaction was rolled back; trying again works), 5/261/517/773:
            // SQLite busy or locked.
            code.starts_with("08")
                || code.starts_with("57P")
                || matches!(&*code, "40001" | "40P01" | "5" | "261" | "517" | "773")
        }),
        _ => false,
    }
}
