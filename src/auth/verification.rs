//! The writes behind proving an email, each one transaction: a sign-up and its mail, a
//! verification link sent again, a link used.

use crate::{
    db::{Pool, Tx},
    domain::{DisplayName, Email},
    email_tokens::{self, Purpose},
    error::AppError,
    mail::{messages, outbox, Mailer},
    sessions::store,
    users::{self, User},
};

/// Sign-ups anyone can post: per account and hour, at most one "someone tried to sign
/// up" notice and this many verification mails (the limit per address is separate).
const MAIL_WINDOW_SECS: i64 = 3600;
const VERIFY_MAILS_PER_WINDOW: i64 = 3;

/// Queues a verification mail for `user`'s email inside `tx`.
async fn queue_verification(
    tx: &mut Tx,
    mailer: &Mailer,
    user: &User,
    password_hash: Option<&str>,
    now: i64,
) -> Result<(), AppError> {
    let token = email_tokens::generate();
    let expires_at = now + messages::VERIFY_TTL_SECS;
    email_tokens::insert(
        tx,
        &token,
        Purpose::VerifyEmail,
        user.id,
        &user.email,
        password_hash,
        now,
        expires_at,
    )
    .await?;
    let mail = messages::verification(&mailer.origin, &user.email, &token.raw);
    outbox::enqueue(tx, &mail, Some(user.id), now).await?;
    Ok(())
}

/// The sign-up's writes once the password is hashed. A new email gets an account and a
/// verification mail. An email with an account nobody has proven gets a verification
/// mail that sets `password_hash` when used (the owner proves the address, the password
/// is theirs). A proven account's owner gets a notice that someone tried (at most one
/// an hour). The caller answers all three alike. `display_name` (chosen with this
/// sign-up, if one was) is stored only with a new account: a sign-up for an email that
/// has one changes nothing of it.
pub async fn sign_up(
    pool: &Pool,
    mailer: &Mailer,
    email: &Email,
    password_hash: &str,
    display_name: Option<&DisplayName>,
    now: i64,
) -> Result<(), AppError> {
    // Two rounds at most: a concurrent sign-up may create the account between our look
    // and our insert; then it is an existing account.
    for _ in 0..2 {
        let existing = users::by_email(pool, email).await?;
        let mut tx = pool.begin().await?;
        let Some(found) = existing else {
            match users::insert(&mut tx, email, password_hash, None, display_name).await {
                Ok(user) => {
                    queue_verification(&mut tx, mailer, &user, None, now).await?;
                    tx.commit().await?;
                    tracing::info!(user.id = user.id, "signed up; verification mail queued");
                    return Ok(());
                }
                Err(AppError::EmailTaken) => continue,
                Err(e) => return Err(e),
            }
        };
        // The user's row is held until commit, so concurrent sign-ups for this email
        // count this hour's mails one after the other.
        let Some(user) = users::lock(&mut tx, found.id).await? else {
            continue; // deleted meanwhile: a new email again
        };
        if user.email_verified_at.is_none() {
            let kind = messages::MailKind::Verify.as_str();
            if outbox::queued_since(&mut tx, user.id, kind, now - MAIL_WINDOW_SECS).await?
                >= VERIFY_MAILS_PER_WINDOW
            {
                tracing::info!(
                    user.id = user.id,
                    "sign-up for an unproven account; enough links mailed this hour"
                );
                return Ok(());
            }
            queue_verification(&mut tx, mailer, &user, Some(password_hash), now).await?;
            tx.commit().await?;
            tracing::info!(user.id = user.id, "sign-up for an unproven account; verification mail queued");
            return Ok(());
        }
        let kind = messages::MailKind::SignupAttempt.as_str();
        if outbox::queued_since(&mut tx, user.id, kind, now - MAIL_WINDOW_SECS).await? > 0 {
            tracing::info!(
                user.id = user.id,
                "sign-up for an existing account; notice already sent this hour"
            );
        } else {
            let mail = messages::signup_attempt(&mailer.origin, &user.email);
            outbox::enqueue(&mut tx, &mail, Some(user.id), now).await?;
            tx.commit().await?;
            tracing::info!(user.id = user.id, "sign-up for an existing account; notice queued");
        }
        return Ok(());
    }
    Err(AppError::Unavailable)
}

/// Queues a new verification link for `user`.
pub async fn send_again(pool: &Pool, mailer: &Mailer, user: &User, now: i64) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    queue_verification(&mut tx, mailer, user, None, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Uses a verification token (its stored hash): the email is proven, a password chosen
/// with the sign-up that sent it is set, and then the account's other sessions end
/// (they were signed in with a password the owner did not choose). `None`: the token is
/// unknown, used, expired, or its user no longer has that email.
pub async fn verify(pool: &Pool, token_hash: &str, now: i64) -> Result<Option<User>, AppError> {
    // The user's row first, then the token (the order every writer of both keeps); the
    // lock is the transaction's first statement, a write (see `email_tokens::owner`).
    let Some(owner) = email_tokens::owner(pool, token_hash, Purpose::VerifyEmail).await? else {
        return Ok(None);
    };
    let mut tx = pool.begin().await?;
    if users::lock(&mut tx, owner).await?.is_none() {
        return Ok(None);
    }
    let Some(used) = email_tokens::use_once(&mut tx, token_hash, Purpose::VerifyEmail, now).await? else {
        return Ok(None);
    };
    let new_password = used.password_hash.as_deref();
    let Some(user) = users::mark_verified(&mut tx, used.user_id, &used.email, now, new_password).await?
    else {
        return Ok(None);
    };
    if new_password.is_some() {
        email_tokens::void_for_password_change(&mut tx, used.user_id).await?;
        store::delete_for_user(&mut tx, used.user_id).await?;
    }
    tx.commit().await?;
    Ok(Some(user))
}
