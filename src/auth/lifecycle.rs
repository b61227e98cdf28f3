//! The writes behind the account lifecycle, each one transaction with the mail it causes:
//! a reset link asked for, a reset link used, a password changed, an account deleted.

use crate::{
    config::Verification,
    db::{
        self,
        email_tokens::{self, Purpose},
        outbox,
        twilio_calls::{self, Call},
        users::{self, User},
        Pool, Tx,
    },
    domain::Email,
    error::AppError,
    mail::{messages, Mailer},
};

/// Reset links mailed per account and hour, however many are asked for.
const RESET_MAILS_PER_HOUR: i64 = 3;
/// "Your password was changed" notices coalesce: at most one per account in this window.
const CHANGED_NOTICE_WINDOW_SECS: i64 = 600;

/// Mails a reset link to `email`'s account, if it has one (at most
/// [`RESET_MAILS_PER_HOUR`] an hour). The caller answers alike either way.
pub async fn request_reset(pool: &Pool, mailer: &Mailer, email: &Email, now: i64) -> Result<(), AppError> {
    let Some(found) = users::by_email(pool, email).await? else {
        tracing::info!("password reset asked for an address with no account");
        return Ok(());
    };
    let mut tx = pool.begin().await?;
    // Held until commit: concurrent requests count this hour's mails one after the other.
    let Some(user) = users::lock_row_for_update(&mut tx, found.id).await? else {
        return Ok(());
    };
    let kind = messages::MailKind::ResetPassword.as_str();
    if outbox::queued_since(&mut tx, user.id, kind, now - 3600).await? >= RESET_MAILS_PER_HOUR {
        tracing::info!(user.id = user.id, "password reset asked again; enough links mailed this hour");
        return Ok(());
    }
    let token = email_tokens::generate();
    email_tokens::insert(
        &mut tx,
        &token,
        Purpose::ResetPassword,
        user.id,
        &user.email,
        now,
        now + messages::RESET_TTL_SECS,
    )
    .await?;
    mailer
        .enqueue(
            &mut tx,
            &messages::reset_password(&mailer.origin, &user.email, &token.raw),
            Some(user.id),
            now,
        )
        .await?;
    tx.commit().await?;
    tracing::info!(user.id = user.id, "password reset link queued");
    Ok(())
}

/// Whether a reset link (its stored hash) could be used at `now`: a cheap look before
/// the new password is hashed. [`reset`] decides.
pub async fn reset_link_is_live(pool: &Pool, token_hash: &str, now: i64) -> Result<bool, AppError> {
    Ok(email_tokens::is_live(pool, token_hash, Purpose::ResetPassword, now).await?)
}

/// The writes every password change shares, inside `tx`: every unused link of the user is
/// voided, every session and device token ends (the caller signs this browser in again), and the owner is
/// told (once per [`CHANGED_NOTICE_WINDOW_SECS`]: a burst of changes is one notice).
async fn after_password_change(
    tx: &mut Tx,
    mailer: &Mailer,
    user: &User,
    how: &str,
    now: i64,
) -> Result<(), AppError> {
    email_tokens::void_all(tx, user.id, now).await?;
    db::sessions::delete_for_user(tx, user.id).await?;
    db::device_tokens::revoke_all(tx, user.id).await?;
    let kind = messages::MailKind::PasswordChanged.as_str();
    if outbox::queued_since(tx, user.id, kind, now - CHANGED_NOTICE_WINDOW_SECS).await? == 0 {
        let notice = messages::password_changed(&mailer.origin, &user.email, how);
        mailer.enqueue(tx, &notice, Some(user.id), now).await?;
    }
    Ok(())
}

/// Uses a reset link: the new password is set, the email counts as proven (the mail
/// proved it; a display name chosen before that is dropped), every session of the user ends. `None`: the link is unknown, used,
/// expired, voided by a later password change, or its user no longer has that email.
pub async fn reset(
    pool: &Pool,
    mailer: &Mailer,
    token_hash: &str,
    new_hash: &str,
    now: i64,
) -> Result<Option<User>, AppError> {
    // The user's row first, then the token (the order every writer of both keeps); the
    // lock is the transaction's first statement, a write (see `email_tokens::owner`).
    let Some(owner) = email_tokens::owner(pool, token_hash, Purpose::ResetPassword).await? else {
        return Ok(None);
    };
    let mut tx = pool.begin().await?;
    let Some(user) = users::lock_row_for_update(&mut tx, owner).await? else {
        return Ok(None);
    };
    let Some(used) = email_tokens::use_once(&mut tx, token_hash, Purpose::ResetPassword, now).await? else {
        return Ok(None);
    };
    if used.user_id != user.id || used.email != user.email {
        return Ok(None);
    }
    let was_proven = user.email_verified_at.is_some();
    users::mark_email_proven(&mut tx, used.user_id, now).await?;
    let Some(user) = users::set_password(&mut tx, used.user_id, None, new_hash).await? else {
        return Ok(None);
    };
    after_password_change(&mut tx, mailer, &user, "reset with a link from a mail", now).await?;
    if !was_proven {
        // The mail proved the email: the account can chat from now on.
        twilio_calls::enqueue(&mut tx, Call::Create, &user, now).await?;
    }
    tx.commit().await?;
    twilio_calls::nudge();
    Ok(Some(user))
}

/// Sets a new password for `user`, whose current one the caller checked against
/// `user.password_hash`. `None` when that hash changed meanwhile (another change won).
pub async fn change_password(
    pool: &Pool,
    mailer: &Mailer,
    user: &User,
    new_hash: &str,
    now: i64,
) -> Result<Option<User>, AppError> {
    let mut tx = pool.begin().await?;
    // set_password's UPDATE takes the user's row before the tokens are voided.
    let Some(changed) = users::set_password(&mut tx, user.id, Some(&user.password_hash), new_hash).await?
    else {
        return Ok(None);
    };
    after_password_change(&mut tx, mailer, &changed, "changed on the account page", now).await?;
    tx.commit().await?;
    Ok(Some(changed))
}

/// Deletes `user_id` with their sessions, device tokens, links and unsent mail (one
/// statement: the rest cascades), and queues the deletion of their Twilio User when they
/// could chat. False when they were already gone.
pub async fn delete_account(
    pool: &Pool,
    user_id: i64,
    verification: Verification,
    now: i64,
) -> Result<bool, AppError> {
    let mut tx = pool.begin().await?;
    let deleted = users::delete(&mut tx, user_id).await?;
    // Session rows without a user_id name no user; the session-key check ends those.
    db::sessions::delete_for_user(&mut tx, user_id).await?;
    if let Some(gone) = deleted.as_ref().filter(|gone| gone.may_chat(verification)) {
        twilio_calls::enqueue(&mut tx, Call::Delete, gone, now).await?;
    }
    tx.commit().await?;
    twilio_calls::nudge();
    Ok(deleted.is_some())
}
