//! Which account a user of the provider is: found by `(issuer, sub)` once linked, so a
//! changed email at the provider keeps the account; linked at the first sign-in only on an
//! email the provider says it has verified.

use crate::{
    db::{
        self, device_tokens, email_tokens, identity_links,
        twilio_calls::{self, Call},
        users,
        users::User,
        Pool,
    },
    domain::Email,
    error::AppError,
};

/// What the provider says about its user (an ID token's or access token's claims).
#[derive(Debug)]
pub struct ProviderUser<'a> {
    pub issuer: &'a str,
    pub subject: &'a str,
    pub email: Option<&'a str>,
    pub email_verified: Option<bool>,
}

/// Why a provider's user gets no account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Not linked yet, and the provider does not say the email is verified.
    EmailNotVerified,
    /// The provider's email is not one chatpass accepts (with `Email::parse`'s reason).
    EmailRefused(String),
    /// The account with that email is linked to another user of this provider.
    LinkedToAnother,
    /// The database failed (503 or 500).
    Failed(AppError),
}

impl From<sqlx::Error> for Refusal {
    fn from(e: sqlx::Error) -> Self {
        Refusal::Failed(e.into())
    }
}

impl From<AppError> for Refusal {
    fn from(e: AppError) -> Self {
        Refusal::Failed(e)
    }
}

/// The account of `who`, linked or made now: a new, proven account when none has the
/// email; a proven one with that email, linked; an unproven one (anyone could have made
/// it), taken over: its password voided, its sessions, device tokens and links ended.
pub async fn account_for(pool: &Pool, who: &ProviderUser<'_>, now: i64) -> Result<User, Refusal> {
    // Twice at most: a concurrent first sign-in of the same user (or email) may win the
    // insert; the second look finds what it made.
    for _ in 0..2 {
        if let Some(user) = identity_links::account(pool, who.issuer, who.subject).await? {
            return Ok(follow_email_change(pool, user, who, now).await);
        }
        if who.email_verified != Some(true) {
            return Err(Refusal::EmailNotVerified);
        }
        let email =
            Email::parse(who.email.unwrap_or_default()).map_err(|e| Refusal::EmailRefused(e.to_string()))?;
        match link_first_time(pool, who, &email, now).await {
            Ok(Some(user)) => return Ok(user),
            Ok(None) | Err(Refusal::Failed(AppError::EmailTaken)) => continue,
            Err(refusal) => return Err(refusal),
        }
    }
    Err(Refusal::Failed(AppError::Unavailable))
}

/// The account of an email an auth proxy vouches for: found, or made proven; an unproven
/// one is taken over as at a provider's first sign-in.
pub async fn account_for_email(pool: &Pool, email: &Email, now: i64) -> Result<User, Refusal> {
    for _ in 0..2 {
        // Looked up before the transaction takes its connection: holding one while asking the
        // pool for another would exhaust the pool under a burst of first requests.
        let found = users::by_email(pool, email).await?;
        let mut tx = pool.begin().await?;
        let user = match found {
            None => match users::insert(&mut tx, email, users::NO_PASSWORD, Some(now), None).await {
                Err(AppError::EmailTaken) => continue,
                other => other?,
            },
            Some(found) if found.email_verified_at.is_some() => return Ok(found),
            Some(found) => match take_over(&mut tx, found.id, now).await? {
                Some(user) => user,
                None => continue,
            },
        };
        // New or taken over, the account can chat from now on.
        twilio_calls::enqueue(&mut tx, Call::Create, &user, now).await?;
        tx.commit().await?;
        twilio_calls::nudge();
        return Ok(user);
    }
    Err(Refusal::Failed(AppError::Unavailable))
}

/// An unproven account handed to whoever proved its email elsewhere: password voided,
/// sessions, device tokens and mailed links ended. `None`: proven or gone meanwhile.
async fn take_over(tx: &mut db::Tx, user_id: i64, now: i64) -> Result<Option<User>, Refusal> {
    let Some(taken) = users::take_over_unproven(tx, user_id, now).await? else {
        return Ok(None);
    };
    db::sessions::delete_for_user(tx, taken.id).await?;
    device_tokens::revoke_all(tx, taken.id).await?;
    email_tokens::void_all(tx, taken.id, now).await?;
    tracing::info!(user.id = taken.id, "an unproven account was taken over by the proven owner of its email");
    Ok(Some(taken))
}

/// `None`: another request linked or made it meanwhile (look again).
async fn link_first_time(
    pool: &Pool,
    who: &ProviderUser<'_>,
    email: &Email,
    now: i64,
) -> Result<Option<User>, Refusal> {
    // Before the transaction takes its connection (see `account_for_email`); the row lock
    // below reads the account again.
    let found = users::by_email(pool, email).await?;
    let mut tx = pool.begin().await?;
    let mut can_chat_now = true;
    let user = match found {
        None => users::insert(&mut tx, email, users::NO_PASSWORD, Some(now), None).await?,
        Some(found) => {
            let Some(locked) = users::lock_row_for_update(&mut tx, found.id).await? else {
                return Ok(None);
            };
            if locked.email_verified_at.is_some() {
                match identity_links::subject_of(&mut tx, who.issuer, locked.id).await? {
                    // A concurrent first sign-in of this same user linked it meanwhile.
                    Some(subject) if subject == who.subject => return Ok(None),
                    Some(_) => return Err(Refusal::LinkedToAnother),
                    None => {}
                }
                can_chat_now = false; // it could already
                locked
            } else {
                let Some(taken) = users::take_over_unproven(&mut tx, locked.id, now).await? else {
                    return Ok(None);
                };
                db::sessions::delete_for_user(&mut tx, taken.id).await?;
                device_tokens::revoke_all(&mut tx, taken.id).await?;
                email_tokens::void_all(&mut tx, taken.id, now).await?;
                tracing::info!(
                    user.id = taken.id,
                    "an unproven account was taken over by the provider's user of its email"
                );
                taken
            }
        }
    };
    if !identity_links::link(&mut tx, who.issuer, who.subject, user.id, now).await? {
        return Ok(None);
    }
    if can_chat_now {
        twilio_calls::enqueue(&mut tx, Call::Create, &user, now).await?;
    }
    tx.commit().await?;
    twilio_calls::nudge();
    tracing::info!(user.id = user.id, "account linked to the OpenID provider's user");
    Ok(Some(user))
}

/// The provider's verified email replaces the stored one when it changed, unless another
/// account holds it (then the stored one stays, and the log says so).
async fn follow_email_change(pool: &Pool, user: User, who: &ProviderUser<'_>, now: i64) -> User {
    let Some(email) =
        who.email.filter(|_| who.email_verified == Some(true)).and_then(|e| Email::parse(e).ok())
    else {
        return user;
    };
    if email.as_str() == user.email {
        return user;
    }
    let changed = async {
        let mut tx = pool.begin().await?;
        let changed = users::set_email(&mut tx, user.id, &email).await?;
        if let Some(changed) = &changed {
            // With emails as identities, Twilio's User changes with it.
            twilio_calls::enqueue_email_change(&mut tx, &user.email, changed, now).await?;
        }
        tx.commit().await?;
        twilio_calls::nudge();
        Ok::<_, sqlx::Error>(changed)
    };
    match changed.await {
        Ok(Some(changed)) => {
            tracing::info!(user.id = user.id, "email changed at the OpenID provider: stored email updated");
            changed
        }
        Ok(None) => {
            tracing::warn!(
                user.id = user.id,
                "email changed at the OpenID provider to one another account holds: kept"
            );
            user
        }
        Err(e) => {
            tracing::warn!(user.id = user.id, error = %e, "could not update the email changed at the OpenID provider");
            user
        }
    }
}
