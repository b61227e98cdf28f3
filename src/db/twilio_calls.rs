//! The `twilio_calls` table: calls to Twilio's Conversations API (a User created, renamed,
//! deleted) waiting to be made, queued in the same transaction as the account change that
//! causes them, so a call exists exactly when its change does.
//!
//! Claim protocol: as the mail outbox's (`outbox`), a lease and a `claim_token` of the
//! sender's own, `FOR UPDATE SKIP LOCKED` on PostgreSQL; and one more rule: a row is due
//! only when no earlier row of the same account (or for the same email) is unfinished, so
//! an account's calls are made one at a time, in the order their changes were committed (a
//! delete never overtakes its create), whichever instance makes them.

use std::sync::LazyLock;

use tokio::sync::Notify;

use super::{
    pool::{with_pool, with_tx, Pool, Tx},
    users::User,
};

/// What a queued call asks of Twilio.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    /// The account can chat now: its User, with the account's name.
    Create,
    /// The display name changed: the User's `FriendlyName`.
    Rename,
    /// The account is gone: its User.
    Delete,
    /// The email changed: with emails as identities, the old one's User goes and the new
    /// one's comes; with opaque ids, nothing changes at Twilio.
    ChangeEmail,
}

impl Call {
    pub fn as_str(self) -> &'static str {
        match self {
            Call::Create => "create",
            Call::Rename => "rename",
            Call::Delete => "delete",
            Call::ChangeEmail => "change_email",
        }
    }

    pub fn parse(raw: &str) -> Option<Call> {
        [Call::Create, Call::Rename, Call::Delete, Call::ChangeEmail].into_iter().find(|c| c.as_str() == raw)
    }
}

/// Wakes this process's sender: called after the commit that queued a call.
pub fn nudge() {
    WAKE.notify_waiters();
}

/// What the sender waits on between rounds (see [`nudge`]).
pub static WAKE: LazyLock<Notify> = LazyLock::new(Notify::new);

/// Queues `call` for `user` inside `tx`. A deletion first drops the account's creates and
/// renames that no sender holds (a User that was never made need not be made to be
/// deleted); one in flight is finished first, then the deletion follows it. An email
/// change stays: it removes the old address's User, which may exist, while the deletion
/// names only the newest address (so the new one's User is made, then deleted).
pub async fn enqueue(tx: &mut Tx, call: Call, user: &User, now: i64) -> Result<(), sqlx::Error> {
    if call == Call::Delete {
        const CANCEL: &str = "DELETE FROM twilio_calls WHERE user_id = $1 AND done_at IS NULL \
                              AND failed_at IS NULL AND (claimed_until IS NULL OR claimed_until <= $2) \
                              AND call IN ($3, $4)";
        with_tx!(tx, c => {
            sqlx::query(CANCEL)
                .bind(user.id)
                .bind(now)
                .bind(Call::Create.as_str())
                .bind(Call::Rename.as_str())
                .execute(c)
                .await
                .map(drop)
        })?;
    }
    insert(tx, call, user, None, now).await
}

/// Queues the change of `user`'s email from `old_email` inside `tx`.
pub async fn enqueue_email_change(
    tx: &mut Tx,
    old_email: &str,
    user: &User,
    now: i64,
) -> Result<(), sqlx::Error> {
    insert(tx, Call::ChangeEmail, user, Some(old_email), now).await
}

async fn insert(
    tx: &mut Tx,
    call: Call,
    user: &User,
    old_email: Option<&str>,
    now: i64,
) -> Result<(), sqlx::Error> {
    const INSERT: &str = "INSERT INTO twilio_calls \
                          (user_id, call, email, chat_id, friendly_name, old_email, created_at, next_attempt_at) \
                          VALUES ($1, $2, $3, $4, $5, $6, $7, $7)";
    with_tx!(tx, c => {
        sqlx::query(INSERT)
            .bind(user.id)
            .bind(call.as_str())
            .bind(&user.email)
            .bind(&user.chat_id)
            .bind(user.display_name_or_default())
            .bind(old_email)
            .bind(now)
            .execute(c)
            .await
            .map(drop)
    })
}

/// A claimed row, to make.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Claimed {
    pub id: i64,
    pub user_id: i64,
    /// A [`Call`] as stored.
    pub call: String,
    pub email: String,
    pub chat_id: String,
    pub friendly_name: String,
    pub old_email: Option<String>,
    pub created_at: i64,
    /// Attempts so far, this one included.
    pub attempts: i32,
}

/// Rows due at `$1` (alias `t`): unfinished, their retry time reached, held by no live
/// claim, and the oldest unfinished row of their account and of their email. The email
/// too, because it is the identity Twilio knows: a deleted account's delete, still being
/// retried, must not overtake the create of a new account that took its address (it
/// would delete the new account's User), nor an email change's move away from it.
macro_rules! due {
    () => {
        "t.done_at IS NULL AND t.failed_at IS NULL AND t.next_attempt_at <= $1 \
         AND (t.claimed_until IS NULL OR t.claimed_until <= $1) \
         AND NOT EXISTS (SELECT 1 FROM twilio_calls e WHERE e.id < t.id \
         AND e.done_at IS NULL AND e.failed_at IS NULL \
         AND (e.user_id = t.user_id OR e.email = t.email OR e.old_email = t.email))"
    };
}

/// Claims up to `limit` due rows for `lease` seconds under `claim`.
pub async fn claim(
    pool: &Pool,
    now: i64,
    lease: i64,
    limit: i64,
    claim: &str,
) -> Result<Vec<Claimed>, sqlx::Error> {
    const POSTGRES: &str = concat!(
        "WITH picked AS MATERIALIZED (SELECT t.id FROM twilio_calls t WHERE ",
        due!(),
        " ORDER BY t.id LIMIT $4 FOR UPDATE SKIP LOCKED) ",
        "UPDATE twilio_calls c SET claimed_until = $1 + $2, claim_token = $3, attempts = c.attempts + 1 ",
        "FROM picked WHERE c.id = picked.id ",
        "RETURNING c.id, c.user_id, c.call, c.email, c.chat_id, c.friendly_name, c.old_email, c.created_at, c.attempts"
    );
    const SQLITE: &str = concat!(
        "UPDATE twilio_calls SET claimed_until = $1 + $2, claim_token = $3, attempts = attempts + 1 ",
        "WHERE id IN (SELECT t.id FROM twilio_calls t WHERE ",
        due!(),
        " ORDER BY t.id LIMIT $4) ",
        "RETURNING id, user_id, call, email, chat_id, friendly_name, old_email, created_at, attempts"
    );
    match pool {
        Pool::Postgres(p) => {
            sqlx::query_as(POSTGRES).bind(now).bind(lease).bind(claim).bind(limit).fetch_all(p).await
        }
        Pool::Sqlite(p) => {
            sqlx::query_as(SQLITE).bind(now).bind(lease).bind(claim).bind(limit).fetch_all(p).await
        }
    }
}

/// Made (or found needless): never again. What named the account is erased.
pub async fn mark_done(
    pool: &Pool,
    id: i64,
    claim: &str,
    now: i64,
    outcome: &str,
) -> Result<bool, sqlx::Error> {
    const UPDATE: &str = "UPDATE twilio_calls SET done_at = $1, outcome = $4, claimed_until = NULL, \
                          email = '', chat_id = '', friendly_name = '', old_email = NULL \
                          WHERE id = $2 AND claim_token = $3 AND done_at IS NULL AND failed_at IS NULL";
    finish(pool, UPDATE, now, id, claim, outcome).await
}

/// Not made this time: due again at `retry_at`.
pub async fn mark_retry(
    pool: &Pool,
    id: i64,
    claim: &str,
    retry_at: i64,
    error: &str,
) -> Result<bool, sqlx::Error> {
    const UPDATE: &str =
        "UPDATE twilio_calls SET next_attempt_at = $1, last_error = $4, claimed_until = NULL \
                          WHERE id = $2 AND claim_token = $3 AND done_at IS NULL AND failed_at IS NULL";
    finish(pool, UPDATE, retry_at, id, claim, error).await
}

/// Refused for good: never tried again. What named the account is erased.
pub async fn mark_failed(
    pool: &Pool,
    id: i64,
    claim: &str,
    now: i64,
    error: &str,
) -> Result<bool, sqlx::Error> {
    const UPDATE: &str = "UPDATE twilio_calls SET failed_at = $1, last_error = $4, outcome = 'given_up', \
                          claimed_until = NULL, email = '', chat_id = '', friendly_name = '', old_email = NULL \
                          WHERE id = $2 AND claim_token = $3 AND done_at IS NULL AND failed_at IS NULL";
    finish(pool, UPDATE, now, id, claim, error).await
}

async fn finish(
    pool: &Pool,
    sql: &'static str,
    time: i64,
    id: i64,
    claim: &str,
    text: &str,
) -> Result<bool, sqlx::Error> {
    let text: String = text.chars().take(500).collect();
    let done = with_pool!(pool, p => {
        sqlx::query(sql).bind(time).bind(id).bind(claim).bind(&text).execute(p).await.map(|r| r.rows_affected())
    })?;
    Ok(done == 1)
}

/// When the next unfinished call is due (Unix seconds), if any is waiting.
pub async fn next_due(pool: &Pool) -> Result<Option<i64>, sqlx::Error> {
    const SELECT: &str =
        "SELECT MIN(CASE WHEN claimed_until IS NOT NULL AND claimed_until > next_attempt_at \
                          THEN claimed_until ELSE next_attempt_at END) FROM twilio_calls \
                          WHERE done_at IS NULL AND failed_at IS NULL";
    with_pool!(pool, p => sqlx::query_scalar::<_, Option<i64>>(SELECT).fetch_one(p).await)
}

/// How long a finished row is kept (seconds): a week, to answer "was it made, and what did
/// Twilio say".
pub const KEEP_FINISHED_SECS: i64 = 7 * 24 * 3600;

/// Deletes rows finished more than [`KEEP_FINISHED_SECS`] before `now`; how many.
pub async fn sweep(pool: &Pool, now: i64) -> Result<u64, sqlx::Error> {
    const DELETE: &str = "DELETE FROM twilio_calls WHERE done_at < $1 OR failed_at < $1";
    let before = now - KEEP_FINISHED_SECS;
    with_pool!(pool, p => sqlx::query(DELETE).bind(before).execute(p).await.map(|r| r.rows_affected()))
}

/// How many calls are unfinished (for `chatpass twilio sync` to say what is still queued).
pub async fn unfinished(pool: &Pool) -> Result<i64, sqlx::Error> {
    const SELECT: &str = "SELECT COUNT(*) FROM twilio_calls WHERE done_at IS NULL AND failed_at IS NULL";
    with_pool!(pool, p => sqlx::query_scalar::<_, i64>(SELECT).fetch_one(p).await)
}
