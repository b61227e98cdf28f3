//! The `outbox` table: mail waiting to go out.
//!
//! Claim protocol (several senders, one table): a sender claims due rows by setting
//! `claimed_until` (a lease) and a `claim_token` of its own in one statement, delivers
//! them, and finishes each with a statement that only matches its own claim. On
//! PostgreSQL the claim skips rows another sender holds locked (`FOR UPDATE SKIP
//! LOCKED`); on SQLite the statement runs under the database's single write lock. A
//! sender that dies mid-delivery leaves its lease to run out; then the row is due again.

use super::pool::{with_pool, with_tx, Pool, Tx};

/// A mail as it goes into the outbox: its text already as stored (the mail feature seals
/// it behind https, since it may hold a working link).
#[derive(Debug, Clone, Copy)]
pub struct NewMail<'a> {
    /// The account it is about, if any (its rows go when the account does).
    pub user_id: Option<i64>,
    pub kind: &'a str,
    pub recipient: &'a str,
    pub subject: &'a str,
    pub stored_body: &'a str,
}

/// Queues `mail` inside `tx`, so it exists exactly when the change that caused it does.
pub async fn enqueue(tx: &mut Tx, mail: NewMail<'_>, now: i64) -> Result<(), sqlx::Error> {
    const INSERT: &str =
        "INSERT INTO outbox (user_id, kind, recipient, subject, body, created_at, next_attempt_at) \
                          VALUES ($1, $2, $3, $4, $5, $6, $6)";
    with_tx!(tx, c => {
        sqlx::query(INSERT)
            .bind(mail.user_id)
            .bind(mail.kind)
            .bind(mail.recipient)
            .bind(mail.subject)
            .bind(mail.stored_body)
            .bind(now)
            .execute(c)
            .await
            .map(drop)
    })
}

/// How many mails of `kind` to this user were queued since `since` (so that requests
/// anyone can make cannot flood an inbox).
pub async fn queued_since(tx: &mut Tx, user_id: i64, kind: &str, since: i64) -> Result<i64, sqlx::Error> {
    const SELECT: &str = "SELECT COUNT(*) FROM outbox WHERE user_id = $1 AND kind = $2 AND created_at >= $3";
    with_tx!(tx, c => sqlx::query_scalar::<_, i64>(SELECT).bind(user_id).bind(kind).bind(since).fetch_one(c).await)
}

/// A claimed row, to deliver.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Claimed {
    pub id: i64,
    /// The account it is about (its files go when the account does).
    pub user_id: Option<i64>,
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    /// The text as stored: the sender opens it (`mail::seal`) before delivery.
    pub body: String,
    pub created_at: i64,
    /// Delivery attempts so far, this one included.
    pub attempts: i32,
}

/// Rows due for delivery at `$1`: unsent, not given up, their retry time reached, and
/// not held by a live claim. One text for both claims below.
macro_rules! due {
    () => {
        "sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $1 \
         AND (claimed_until IS NULL OR claimed_until <= $1)"
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
        "WITH picked AS MATERIALIZED (SELECT id FROM outbox WHERE ",
        due!(),
        " ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED) ",
        "UPDATE outbox o SET claimed_until = $1 + $2, claim_token = $3, attempts = o.attempts + 1 ",
        "FROM picked WHERE o.id = picked.id ",
        "RETURNING o.id, o.user_id, o.kind, o.recipient, o.subject, o.body, o.created_at, o.attempts"
    );
    const SQLITE: &str = concat!(
        "UPDATE outbox SET claimed_until = $1 + $2, claim_token = $3, attempts = attempts + 1 ",
        "WHERE id IN (SELECT id FROM outbox WHERE ",
        due!(),
        " ORDER BY id LIMIT $4) ",
        "RETURNING id, user_id, kind, recipient, subject, body, created_at, attempts"
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

/// Delivered: never again. The text (it may hold a link that works) is not kept.
pub async fn mark_sent(pool: &Pool, id: i64, claim: &str, now: i64) -> Result<bool, sqlx::Error> {
    const UPDATE: &str = "UPDATE outbox SET sent_at = $1, body = '', claimed_until = NULL, last_error = $4 \
                          WHERE id = $2 AND claim_token = $3 AND sent_at IS NULL";
    finish(pool, UPDATE, now, id, claim, None).await
}

/// Not delivered this time: due again at `retry_at`.
pub async fn mark_retry(
    pool: &Pool,
    id: i64,
    claim: &str,
    retry_at: i64,
    error: &str,
) -> Result<bool, sqlx::Error> {
    const UPDATE: &str = "UPDATE outbox SET next_attempt_at = $1, claimed_until = NULL, last_error = $4 \
                          WHERE id = $2 AND claim_token = $3 AND sent_at IS NULL";
    finish(pool, UPDATE, retry_at, id, claim, Some(error)).await
}

/// Not deliverable (refused for good, or too old to matter): never tried again.
pub async fn mark_failed(
    pool: &Pool,
    id: i64,
    claim: &str,
    now: i64,
    error: &str,
) -> Result<bool, sqlx::Error> {
    const UPDATE: &str =
        "UPDATE outbox SET failed_at = $1, body = '', claimed_until = NULL, last_error = $4 \
                          WHERE id = $2 AND claim_token = $3 AND sent_at IS NULL";
    finish(pool, UPDATE, now, id, claim, Some(error)).await
}

async fn finish(
    pool: &Pool,
    sql: &'static str,
    time: i64,
    id: i64,
    claim: &str,
    error: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let error = error.map(|e| e.chars().take(500).collect::<String>());
    let done = with_pool!(pool, p => {
        sqlx::query(sql).bind(time).bind(id).bind(claim).bind(error.as_deref()).execute(p).await.map(|r| r.rows_affected())
    })?;
    Ok(done == 1)
}

/// Whether row `id` is still there (a deleted account takes its rows along).
pub async fn exists(pool: &Pool, id: i64) -> Result<bool, sqlx::Error> {
    const SELECT: &str = "SELECT EXISTS (SELECT 1 FROM outbox WHERE id = $1)";
    with_pool!(pool, p => sqlx::query_scalar::<_, bool>(SELECT).bind(id).fetch_one(p).await)
}

/// How long a sent or given-up row is kept (seconds): a week to answer "did my mail go
/// out, and what did the server say", far past every window that counts rows (an hour).
pub const KEEP_FINISHED_SECS: i64 = 7 * 24 * 3600;

/// Deletes rows sent or given up more than [`KEEP_FINISHED_SECS`] before `now`; how many.
/// Rows still to deliver stay, however old.
pub async fn sweep(pool: &Pool, now: i64) -> Result<u64, sqlx::Error> {
    const DELETE: &str = "DELETE FROM outbox WHERE sent_at < $1 OR failed_at < $1";
    let before = now - KEEP_FINISHED_SECS;
    with_pool!(pool, p => sqlx::query(DELETE).bind(before).execute(p).await.map(|r| r.rows_affected()))
}

/// When the next queued mail is due (Unix seconds), if any is waiting.
pub async fn next_due(pool: &Pool) -> Result<Option<i64>, sqlx::Error> {
    const SELECT: &str =
        "SELECT MIN(CASE WHEN claimed_until IS NOT NULL AND claimed_until > next_attempt_at \
                          THEN claimed_until ELSE next_attempt_at END) FROM outbox \
                          WHERE sent_at IS NULL AND failed_at IS NULL";
    with_pool!(pool, p => sqlx::query_scalar::<_, Option<i64>>(SELECT).fetch_one(p).await)
}
