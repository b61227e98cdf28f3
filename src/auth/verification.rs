//! The writes behind proving an email, each one transaction: a sign-up and its mail, a
//! verification link sent again, a link used.
//!
//! The mailbox's owner chooses the password, on the page the link opens: a sign-up only
//! names an address, so nothing a stranger chose (a password, a session, a name) exists
//! on the account before its owner proves it, and proving it ends everything else.

use crate::{
    db::{
        self,
        email_tokens::{self, Purpose},
        outbox,
        twilio_calls::{self, Call},
        users::{self, User},
        Pool, Tx,
    },
    domain::{DisplayName, Email},
    error::AppError,
    mail::{messages, Mailer},
};

/// Mails anyone can cause by naming an address: per account and hour, at most one "someone
/// tried to sign up" notice and this many verification links (the limit per client
/// address is separate).
const MAIL_WINDOW_SECS: i64 = 3600;
const VERIFY_MAILS_PER_WINDOW: i64 = 3;

/// Queues a verification link for `user`'s email inside `tx`, unless this hour's are spent
/// (then false: the caller answers alike).
async fn queue_verification(tx: &mut Tx, mailer: &Mailer, user: &User, now: i64) -> Result<bool, AppError> {
    let kind = messages::MailKind::Verify.as_str();
    if outbox::queued_since(tx, user.id, kind, now - MAIL_WINDOW_SECS).await? >= VERIFY_MAILS_PER_WINDOW {
        return Ok(false);
    }
    let token = email_tokens::generate();
    let expires_at = now + messages::VERIFY_TTL_SECS;
    email_tokens::insert(tx, &token, Purpose::VerifyEmail, user.id, &user.email, now, expires_at).await?;
    let mail = messages::verification(&mailer.origin, &user.email, &token.raw);
    mailer.enqueue(tx, &mail, Some(user.id), now).await?;
    Ok(true)
}

/// A sign-up for `email`: a new address gets an account with no usable password and a
/// link; an account nobody has proven gets a link too (whoever uses it sets the password);
/// a proven account's owner gets a notice that someone tried (at most one an hour). The
/// caller answers all three alike.
pub async fn sign_up(pool: &Pool, mailer: &Mailer, email: &Email, now: i64) -> Result<(), AppError> {
    // Two rounds at most: a concurrent sign-up may create the account between our look
    // and our insert; then it is an existing account.
    for _ in 0..2 {
        let existing = users::by_email(pool, email).await?;
        let mut tx = pool.begin().await?;
        let Some(found) = existing else {
            match users::insert(&mut tx, email, users::NO_PASSWORD, None, None).await {
                Ok(user) => {
                    queue_verification(&mut tx, mailer, &user, now).await?;
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
        let Some(user) = users::lock_row_for_update(&mut tx, found.id).await? else {
            continue; // deleted meanwhile: a new email again
        };
        if user.email_verified_at.is_none() {
            if queue_verification(&mut tx, mailer, &user, now).await? {
                tx.commit().await?;
                tracing::info!(
                    user.id = user.id,
                    "sign-up for an unproven account; verification mail queued"
                );
            } else {
                tracing::info!(user.id = user.id, "sign-up for an unproven account; enough links this hour");
            }
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
            mailer.enqueue(&mut tx, &mail, Some(user.id), now).await?;
            tx.commit().await?;
            tracing::info!(user.id = user.id, "sign-up for an existing account; notice queued");
        }
        return Ok(());
    }
    Err(AppError::Unavailable)
}

/// Queues a new verification link for `user` (within the same hourly cap as sign-ups).
pub async fn send_again(pool: &Pool, mailer: &Mailer, user: &User, now: i64) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    if users::lock_row_for_update(&mut tx, user.id).await?.is_some()
        && queue_verification(&mut tx, mailer, user, now).await?
    {
        tx.commit().await?;
    }
    Ok(())
}

/// What became of a verification link.
pub enum Proof {
    /// The email is proven now, with the password (and name) chosen on the link's page.
    Proven(User),
    /// The account's email was proven before: nothing changed, no session.
    AlreadyProven,
    /// Unknown, used, expired or voided, or the account no longer has that email.
    Refused,
}

/// What the link's page submits besides the token, parsed and hashed by the caller.
pub struct Chosen<'a> {
    pub password_hash: &'a str,
    pub display_name: Option<&'a DisplayName>,
}

/// Whether a verification link (its stored hash) could prove an email at `now`, or its
/// account is proven already: a cheap look before the password is hashed. [`verify`] decides.
pub async fn look(pool: &Pool, token_hash: &str, now: i64) -> Result<Proof, AppError> {
    let Some(owner) = email_tokens::owner(pool, token_hash, Purpose::VerifyEmail).await? else {
        return Ok(Proof::Refused);
    };
    match users::by_id(pool, owner).await? {
        Some(user) if user.email_verified_at.is_some() => Ok(Proof::AlreadyProven),
        Some(user) if email_tokens::is_live(pool, token_hash, Purpose::VerifyEmail, now).await? => {
            Ok(Proof::Proven(user))
        }
        _ => Ok(Proof::Refused),
    }
}

/// Uses a verification link: the email is proven, the password and display name chosen on
/// its page replace whatever the account had, and everything else of the account ends
/// (every other link, every session: the caller signs this browser in), and the owner is
/// told. Of concurrent uses of one link exactly one proves; the others find it proven.
pub async fn verify(
    pool: &Pool,
    mailer: &Mailer,
    token_hash: &str,
    chosen: Chosen<'_>,
    now: i64,
) -> Result<Proof, AppError> {
    // The user's row first, then the token (the order every writer of both keeps); the
    // lock is the transaction's first statement, a write (see `email_tokens::owner`).
    let Some(owner) = email_tokens::owner(pool, token_hash, Purpose::VerifyEmail).await? else {
        return Ok(Proof::Refused);
    };
    let mut tx = pool.begin().await?;
    let Some(user) = users::lock_row_for_update(&mut tx, owner).await? else {
        return Ok(Proof::Refused);
    };
    if user.email_verified_at.is_some() {
        return Ok(Proof::AlreadyProven);
    }
    let Some(used) = email_tokens::use_once(&mut tx, token_hash, Purpose::VerifyEmail, now).await? else {
        return Ok(Proof::Refused);
    };
    let Some(user) = users::prove_email(
        &mut tx,
        used.user_id,
        &used.email,
        now,
        chosen.password_hash,
        chosen.display_name,
    )
    .await?
    else {
        return Ok(Proof::Refused);
    };
    email_tokens::void_all(&mut tx, user.id, now).await?;
    db::sessions::delete_for_user(&mut tx, user.id).await?;
    // Whoever had the account before its owner proved the address loses its apps too.
    db::device_tokens::revoke_all(&mut tx, user.id).await?;
    let notice = messages::email_confirmed(&mailer.origin, &user.email, &messages::utc_time(now));
    mailer.enqueue(&mut tx, &notice, Some(user.id), now).await?;
    // The account can chat from now on: Twilio gets its User, with the name just chosen.
    twilio_calls::enqueue(&mut tx, Call::Create, &user, now).await?;
    tx.commit().await?;
    twilio_calls::nudge();
    Ok(Proof::Proven(user))
}
