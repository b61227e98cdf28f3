//! The server side of the account server functions: each server function in
//! `auth/mod.rs` forwards to the function of the same name here.

use std::sync::Arc;

use super::{
    limits::Limits,
    next::{safe_next, AFTER_LOGIN},
    user_info::UserInfo,
};
use crate::{
    domain::{Email, Password},
    error::AppError,
    sessions::{self, backend::BackendError, AuthSession, Credentials},
    state::{app_state, auth_session, client_ip, feature_state, session_error},
    users,
};

fn limits() -> Result<Arc<Limits>, AppError> {
    feature_state::<Arc<Limits>>()
}

/// Starts a fresh session for `user`: a new id, the login time for the absolute timeout.
async fn start_session(auth: &mut AuthSession, user: &users::User) -> Result<(), AppError> {
    auth.session.cycle_id().await.map_err(session_error)?;
    auth.login(user).await.map_err(|e| match e {
        axum_login::Error::Backend(BackendError(e)) => e,
        axum_login::Error::Session(e) => session_error(e),
    })?;
    sessions::mark_login(&auth.session, user.id).await.map_err(session_error)?;
    Ok(())
}

pub async fn signup(email: String, password: String) -> Result<(), AppError> {
    let state = app_state()?;
    let email = Email::parse(&email)?;
    let password = Password::parse(&password)?;
    limits()?.signups_per_ip.check(&client_ip().await)?;
    if users::email_exists(&state.pool, &email).await? {
        return Err(AppError::EmailTaken);
    }
    let hash = state.hasher.hash_new(password).await?;
    // The unique index decides races: of concurrent sign-ups, exactly one gets the row.
    let user = users::create(&state.pool, &email, &hash).await?;
    let mut auth = auth_session().await?;
    start_session(&mut auth, &user).await?;
    tracing::info!(user.id = user.id, "signed up");
    leptos_axum::redirect(AFTER_LOGIN);
    Ok(())
}

pub async fn login(email: String, password: String, next: Option<String>) -> Result<(), AppError> {
    let limits = limits()?;
    let email = Email::parse(&email)?;
    let password = Password::parse(&password)?;
    let ip = client_ip().await;
    let account_key = email.as_str().to_string();
    limits.login_failures_per_ip.ensure_open(&ip)?;
    limits.login_failures_per_account.ensure_open(&account_key)?;
    let mut auth = auth_session().await?;
    let user = auth.authenticate(Credentials { email, password }).await.map_err(|e| match e {
        axum_login::Error::Backend(BackendError(e)) => e,
        axum_login::Error::Session(e) => session_error(e),
    })?;
    let Some(user) = user else {
        limits.login_failures_per_ip.record(&ip);
        limits.login_failures_per_account.record(&account_key);
        tracing::info!("login refused: wrong email or password");
        return Err(AppError::BadCredentials);
    };
    start_session(&mut auth, &user).await?;
    tracing::info!(user.id = user.id, "logged in");
    leptos_axum::redirect(safe_next(next.as_deref()));
    Ok(())
}

pub async fn logout() -> Result<(), AppError> {
    let mut auth = auth_session().await?;
    if let Some(user) = auth.logout().await.map_err(session_error)? {
        tracing::info!(user.id = user.id, "logged out");
    }
    leptos_axum::redirect("/login");
    Ok(())
}

pub async fn current_user() -> Result<Option<UserInfo>, AppError> {
    let auth = auth_session().await?;
    Ok(auth.user.map(|u| UserInfo { email: u.email }))
}
