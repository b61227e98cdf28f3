//! The server side of the account server functions: each server function in
//! `auth/mod.rs` forwards to the function of the same name here.

use std::sync::Arc;

use super::{
    form_post::{accepted_or_redirect, is_form_post},
    lifecycle,
    limits::Limits,
    next::{safe_next, AFTER_LOGIN},
    outcome::{ForgotOutcome, ResendOutcome, SignupOutcome},
    session_error::session_error,
    user_info::{AccountInfo, DisplayNameInfo, UserInfo},
    verification,
};
use crate::{
    config::{AccountSettings, Verification},
    db::{
        email_tokens,
        twilio_calls::{self, Call},
        users,
    },
    domain::{DisplayName, Email, Password},
    error::AppError,
    mail::{sender::unix_now, Mailer},
    sessions::{self, backend::BackendError, AuthSession, Credentials},
    state::{app_state, auth_session, client_ip, feature_state},
};

fn limits() -> Result<Arc<Limits>, AppError> {
    feature_state::<Arc<Limits>>()
}

/// Starts a fresh session for `user`: a new id, the login time for the absolute timeout,
/// within the account's cap on sessions.
async fn start_session(auth: &mut AuthSession, user: &users::User) -> Result<(), AppError> {
    let agent = super::sessions_list::user_agent_header();
    start_session_with(auth, user, &app_state()?.pool, &agent).await
}

/// [`start_session`] outside a server function (a plain axum handler: the OpenID
/// callback), with the pool and the request's `User-Agent` passed in.
pub async fn start_session_with(
    auth: &mut AuthSession,
    user: &users::User,
    pool: &crate::db::Pool,
    user_agent: &str,
) -> Result<(), AppError> {
    auth.session.cycle_id().await.map_err(session_error)?;
    auth.login(user).await.map_err(|e| match e {
        axum_login::Error::Backend(BackendError(e)) => e,
        axum_login::Error::Session(e) => session_error(e),
    })?;
    sessions::mark_login(&auth.session, user.id).await.map_err(session_error)?;
    super::sessions_list::start_within_cap(auth, user.id, pool, user_agent).await
}

fn mailer() -> Result<Arc<Mailer>, AppError> {
    feature_state::<Arc<Mailer>>()
}

fn info(user: &users::User) -> UserInfo {
    UserInfo { email: user.email.clone(), email_verified: user.email_verified_at.is_some() }
}

pub async fn signup(
    email: String,
    password: Option<String>,
    display_name: Option<String>,
) -> Result<SignupOutcome, AppError> {
    let state = app_state()?;
    let accounts = feature_state::<AccountSettings>()?;
    // Every field is checked before anything counts, hashes or writes.
    let email = Email::parse(&email)?;
    if accounts.verification == Verification::Off {
        let password = Password::parse(password.as_deref().unwrap_or_default())?;
        let display_name = DisplayName::parse_optional(display_name.as_deref())?;
        limits()?.signups_per_ip.check(&client_ip().await)?;
        return signup_without_verification(
            state.pool.clone(),
            state.hasher.clone(),
            email,
            password,
            display_name,
        )
        .await;
    }
    // The address's owner chooses the password and the name on the link's page: whatever
    // this request sent for them is dropped unread (it may be a stranger's).
    drop((password, display_name));
    limits()?.signups_per_ip.check(&client_ip().await)?;
    let mailer = mailer()?;
    verification::sign_up(&state.pool, &mailer, &email, unix_now()).await?;
    crate::metrics::signup();
    mailer.nudge();
    accepted_or_redirect("/signup?sent=1");
    Ok(SignupOutcome::CheckYourInbox)
}

/// `CHATPASS_EMAIL_VERIFICATION=off`: the account is made and signed in at once (an
/// email that has an account is 409: there is nothing to mail).
async fn signup_without_verification(
    pool: crate::db::Pool,
    hasher: crate::passwords::Hasher,
    email: Email,
    password: Password,
    display_name: Option<DisplayName>,
) -> Result<SignupOutcome, AppError> {
    if users::email_exists(&pool, &email).await? {
        return Err(AppError::EmailTaken);
    }
    let hash = hasher.hash_new(password).await?;
    // The unique index decides races: of concurrent sign-ups, exactly one gets the row.
    let mut tx = pool.begin().await?;
    let user = users::insert(&mut tx, &email, &hash, None, display_name.as_ref()).await?;
    // Without proof an account can chat at once: Twilio gets its User now.
    twilio_calls::enqueue(&mut tx, Call::Create, &user, unix_now()).await?;
    tx.commit().await?;
    twilio_calls::nudge();
    let mut auth = auth_session().await?;
    start_session(&mut auth, &user).await?;
    crate::metrics::signup();
    tracing::info!(user.id = user.id, "signed up");
    leptos_axum::redirect(AFTER_LOGIN);
    Ok(SignupOutcome::SignedIn)
}

fn verification_refused() -> AppError {
    AppError::bad_input("token", "This link has expired or was already used. Sign up again to get a new one.")
}

pub async fn verify_email(
    token: String,
    password: String,
    display_name: Option<String>,
) -> Result<UserInfo, AppError> {
    let state = app_state()?;
    // A field refused here uses nothing: the link still works with a better password.
    let token_hash = email_tokens::parse(&token)?;
    let password = Password::parse(&password)?;
    let display_name = DisplayName::parse_optional(display_name.as_deref())?;
    // A look first, so a dead link costs no hashing; the use below decides.
    match verification::look(&state.pool, &token_hash, unix_now()).await? {
        verification::Proof::Proven(_) => {}
        verification::Proof::AlreadyProven => return Err(AppError::AlreadyConfirmed),
        verification::Proof::Refused => {
            tracing::info!("verification refused: unknown, used or expired link");
            return Err(verification_refused());
        }
    }
    let hash = state.hasher.hash_new(password).await?;
    let mailer = mailer()?;
    let chosen = verification::Chosen { password_hash: &hash, display_name: display_name.as_ref() };
    let user = match verification::verify(&state.pool, &mailer, &token_hash, chosen, unix_now()).await? {
        verification::Proof::Proven(user) => user,
        verification::Proof::AlreadyProven => return Err(AppError::AlreadyConfirmed),
        verification::Proof::Refused => {
            tracing::info!("verification refused: the link was used or voided meanwhile");
            return Err(verification_refused());
        }
    };
    mailer.nudge();
    let mut auth = auth_session().await?;
    start_session(&mut auth, &user).await?;
    crate::metrics::verification();
    tracing::info!(user.id = user.id, "email verified; every other session ended; signed in");
    leptos_axum::redirect(AFTER_LOGIN);
    Ok(info(&user))
}

pub async fn resend_verification() -> Result<ResendOutcome, AppError> {
    let state = app_state()?;
    let auth = auth_session().await?;
    let Some(user) = auth.user else {
        return Err(AppError::NotSignedIn);
    };
    if user.email_verified_at.is_some() {
        return Ok(ResendOutcome::AlreadyVerified);
    }
    let limits = limits()?;
    limits.resends_per_ip.check(&client_ip().await)?;
    limits.resends_per_account.check(&user.id)?;
    let mailer = mailer()?;
    verification::send_again(&state.pool, &mailer, &user, unix_now()).await?;
    mailer.nudge();
    tracing::info!(user.id = user.id, "verification mail queued again");
    accepted_or_redirect("/chat");
    Ok(ResendOutcome::CheckYourInbox)
}

pub async fn login(email: String, password: String, next: Option<String>) -> Result<(), AppError> {
    let (user, mut auth) = check_credentials(&email, &password).await?;
    start_session(&mut auth, &user).await?;
    crate::metrics::login("ok");
    tracing::info!(user.id = user.id, "logged in");
    leptos_axum::redirect(&safe_next(next.as_deref()));
    Ok(())
}

/// An email and password checked as a login checks them, without signing anything in: the
/// failed-login limits count the attempt first, an unknown email costs the same hashing as
/// a wrong password, and both get the one message. The account, and this request's auth session.
pub async fn check_credentials(email: &str, password: &str) -> Result<(users::User, AuthSession), AppError> {
    let email = Email::parse(email)?;
    let password = Password::parse(password)?;
    let failed_logins = &limits()?.failed_logins;
    let ip = client_ip().await;
    let attempt = failed_logins.count_attempt(email.as_str(), ip, unix_now()).await.inspect_err(|e| {
        if matches!(e, AppError::RateLimited { .. }) {
            crate::metrics::login("limited");
        }
    })?;
    let auth = auth_session().await?;
    let checked = auth.authenticate(Credentials { email, password }).await.map_err(|e| match e {
        axum_login::Error::Backend(BackendError(e)) => e,
        axum_login::Error::Session(e) => session_error(e),
    });
    let user = match checked {
        Ok(user) => user,
        Err(e) => {
            failed_logins.password_not_checked(attempt).await?;
            return Err(e);
        }
    };
    let Some(user) = user else {
        crate::metrics::login("bad_credentials");
        tracing::info!(client = %ip, "login refused: wrong email or password");
        return Err(AppError::BadCredentials);
    };
    failed_logins.password_was_right(attempt).await?;
    Ok((user, auth))
}

pub async fn logout() -> Result<(), AppError> {
    let mut auth = auth_session().await?;
    let id_token: Option<String> = auth.session.get(sessions::OIDC_ID_TOKEN_KEY).await.ok().flatten();
    if let Some(user) = auth.logout().await.map_err(session_error)? {
        tracing::info!(user.id = user.id, "logged out");
    }
    match id_token.and_then(|hint| provider_logout(&hint)) {
        Some(url) => leptos_axum::redirect(&url),
        None => leptos_axum::redirect("/login"),
    }
    Ok(())
}

/// Where a session signed in through the OpenID provider goes after chatpass's logout: the
/// provider's `end_session_endpoint`, when it has one, and from there back to chatpass's home.
fn provider_logout(id_token_hint: &str) -> Option<String> {
    let provider = leptos::prelude::use_context::<Arc<crate::idp::Provider>>()?;
    let metadata = provider.metadata()?;
    let mut url = metadata.additional_metadata().end_session_endpoint.as_ref()?.url().clone();
    let home = format!("{}/", mailer().ok()?.origin);
    url.query_pairs_mut()
        .append_pair("id_token_hint", id_token_hint)
        .append_pair("post_logout_redirect_uri", &home)
        .append_pair("client_id", &provider.settings.client_id);
    Some(url.into())
}

pub async fn current_user() -> Result<Option<UserInfo>, AppError> {
    let auth = auth_session().await?;
    Ok(auth.user.as_ref().map(info))
}

/// A password field's error, named for the field it came from (the parser says "password").
fn in_field(field: &str) -> impl Fn(AppError) -> AppError + '_ {
    move |e| match e {
        AppError::BadInput { reason, .. } => AppError::BadInput { field: field.to_string(), reason },
        other => other,
    }
}

/// The signed-in user, or 401.
fn signed_in(auth: &AuthSession) -> Result<users::User, AppError> {
    auth.user.clone().ok_or(AppError::NotSignedIn)
}

pub async fn forgot_password(email: String) -> Result<ForgotOutcome, AppError> {
    let state = app_state()?;
    let email = Email::parse(&email)?;
    limits()?.resets_per_ip.check(&client_ip().await)?;
    let mailer = mailer()?;
    // The answer does not wait for the lookup: known and unknown emails take the same
    // time. A failure is logged; the person can ask again.
    tokio::spawn(async move {
        match lifecycle::request_reset(&state.pool, &mailer, &email, unix_now()).await {
            Ok(()) => mailer.nudge(),
            Err(e) => tracing::warn!(error = %e, "could not queue a password reset link"),
        }
    });
    accepted_or_redirect("/forgot?sent=1");
    Ok(ForgotOutcome::CheckYourInbox)
}

fn link_refused() -> AppError {
    AppError::bad_input(
        "token",
        "This link has expired or was already used, or the password was changed since. Ask for a new one.",
    )
}

pub async fn reset_password(token: String, password: String) -> Result<UserInfo, AppError> {
    let state = app_state()?;
    let token_hash = email_tokens::parse(&token)?;
    let password = Password::parse(&password)?;
    // A look first, so a dead link costs no hashing; the use below decides.
    if !lifecycle::reset_link_is_live(&state.pool, &token_hash, unix_now()).await? {
        tracing::info!("password reset refused: unknown, used or expired link");
        return Err(link_refused());
    }
    let hash = state.hasher.hash_new(password).await?;
    let mailer = mailer()?;
    let Some(user) = lifecycle::reset(&state.pool, &mailer, &token_hash, &hash, unix_now()).await? else {
        tracing::info!("password reset refused: the link was used meanwhile");
        return Err(link_refused());
    };
    mailer.nudge();
    let mut auth = auth_session().await?;
    start_session(&mut auth, &user).await?;
    crate::metrics::password_reset();
    tracing::info!(user.id = user.id, "password reset; every other session ended; signed in");
    leptos_axum::redirect(AFTER_LOGIN);
    Ok(info(&user))
}

/// Checks the signed-in `user`'s own password before `action`, spending the same budget as
/// a failed login (a wrong one is 401 and counted; a right one takes the count back).
async fn confirm_password(
    state: &crate::state::AppState,
    user: &users::User,
    password: Password,
    action: &str,
) -> Result<(), AppError> {
    let failed_logins = &limits()?.failed_logins;
    let ip = client_ip().await;
    let attempt = failed_logins.count_attempt(&user.email, ip, unix_now()).await?;
    let right = match state.hasher.verify(password, Some(user.password_hash.clone())).await {
        Ok(right) => right,
        Err(e) => {
            failed_logins.password_not_checked(attempt).await?;
            return Err(e);
        }
    };
    if !right {
        tracing::info!(user.id = user.id, client = %ip, "{action} refused: wrong password");
        return Err(AppError::BadCredentials);
    }
    failed_logins.password_was_right(attempt).await
}

pub async fn change_password(current_password: String, new_password: String) -> Result<(), AppError> {
    let state = app_state()?;
    let mut auth = auth_session().await?;
    let user = signed_in(&auth)?;
    let current = Password::parse(&current_password).map_err(in_field("current_password"))?;
    let new = Password::parse(&new_password).map_err(in_field("new_password"))?;
    if current.expose() == new.expose() {
        return Err(AppError::bad_input("new_password", "The new password is the one you have now."));
    }
    // Until the owner proves the address, whoever signed in may be a stranger: a change
    // would void the owner's links (the owner resets with a mailed link instead).
    if user.email_verified_at.is_none()
        && feature_state::<AccountSettings>()?.verification == Verification::Required
    {
        return Err(AppError::EmailUnverified);
    }
    confirm_password(&state, &user, current, "password change").await?;
    limits()?.password_changes_per_account.check(&user.id)?;
    let hash = state.hasher.hash_new(new).await.map_err(in_field("new_password"))?;
    let mailer = mailer()?;
    let Some(changed) = lifecycle::change_password(&state.pool, &mailer, &user, &hash, unix_now()).await?
    else {
        tracing::info!(user.id = user.id, "password change refused: changed meanwhile by another request");
        return Err(AppError::BadCredentials);
    };
    mailer.nudge();
    start_session(&mut auth, &changed).await?;
    tracing::info!(user.id = user.id, "password changed; every other session ended");
    if is_form_post() {
        leptos_axum::redirect("/account?changed=1");
    }
    Ok(())
}

pub async fn delete_account(password: String) -> Result<(), AppError> {
    let state = app_state()?;
    let mut auth = auth_session().await?;
    let user = signed_in(&auth)?;
    if user.password_hash == users::NO_PASSWORD {
        // Signed in through the provider or a proxy: no password to check, so the account's
        // email, typed, confirms that deleting it is meant.
        if !Email::parse(&password).is_ok_and(|typed| typed.as_str() == user.email) {
            return Err(AppError::bad_input("password", "Type your account's email address to confirm."));
        }
    } else {
        let password = Password::parse(&password)?;
        confirm_password(&state, &user, password, "account deletion").await?;
    }
    let verification = feature_state::<AccountSettings>()?.verification;
    let deleted = lifecycle::delete_account(&state.pool, user.id, verification, unix_now()).await?;
    mailer()?.forget_user(user.id).await;
    // The row is gone already; this clears the cookie and the request's own session.
    auth.logout().await.map_err(session_error)?;
    if deleted {
        tracing::info!(user.id = user.id, "account deleted");
    } else {
        tracing::info!(user.id = user.id, "account already deleted by another request");
    }
    leptos_axum::redirect("/?deleted=1");
    Ok(())
}

pub async fn set_display_name(display_name: String) -> Result<DisplayNameInfo, AppError> {
    let state = app_state()?;
    let auth = auth_session().await?;
    let user = signed_in(&auth)?;
    // Here a name is required: an empty one is refused, not taken for "the default".
    let name = DisplayName::parse(&display_name)?;
    limits()?.display_names_per_account.check(&user.id)?;
    let verification = feature_state::<AccountSettings>()?.verification;
    let mut tx = state.pool.begin().await?;
    let Some(renamed) = users::set_display_name(&mut tx, user.id, &name).await? else {
        // Deleted by another request meanwhile.
        return Err(AppError::NotSignedIn);
    };
    if renamed.may_chat(verification) {
        twilio_calls::enqueue(&mut tx, Call::Rename, &renamed, unix_now()).await?;
    }
    tx.commit().await?;
    twilio_calls::nudge();
    let stored = renamed.display_name_or_default();
    tracing::info!(user.id = user.id, "display name changed");
    if is_form_post() {
        leptos_axum::redirect("/account?renamed=1");
    }
    Ok(DisplayNameInfo { display_name: stored })
}

pub async fn account() -> Result<AccountInfo, AppError> {
    let state = app_state()?;
    let auth = auth_session().await?;
    let user = signed_in(&auth)?;
    let created_on = users::created_on(&state.pool, user.id).await?.ok_or(AppError::NotSignedIn)?;
    let display_name = user.display_name_or_default();
    Ok(AccountInfo {
        email: user.email,
        email_verified: user.email_verified_at.is_some(),
        created_on,
        display_name,
        has_password: user.password_hash != users::NO_PASSWORD,
    })
}
