//! The `identity_links` table: which account a user of the team's OpenID Connect provider
//! is, by the provider's `(issuer, sub)`. One link per account and provider.

use super::{
    pool::{with_pool, with_tx, Pool, Tx},
    users::{user_columns, User},
};

/// The account linked to `(issuer, subject)`, if any.
pub async fn account(pool: &Pool, issuer: &str, subject: &str) -> Result<Option<User>, sqlx::Error> {
    const SELECT: &str = concat!(
        "SELECT ",
        user_columns!("u."),
        " FROM identity_links l JOIN users u ON u.id = l.user_id WHERE l.issuer = $1 AND l.subject = $2"
    );
    with_pool!(pool, p => sqlx::query_as::<_, User>(SELECT).bind(issuer).bind(subject).fetch_optional(p).await)
}

/// The provider's user `user_id` is linked to at `issuer`, if any, inside `tx`.
pub async fn subject_of(tx: &mut Tx, issuer: &str, user_id: i64) -> Result<Option<String>, sqlx::Error> {
    const SELECT: &str = "SELECT subject FROM identity_links WHERE issuer = $1 AND user_id = $2";
    with_tx!(tx, c => sqlx::query_scalar::<_, String>(SELECT).bind(issuer).bind(user_id).fetch_optional(c).await)
}

/// Links `user_id` to `(issuer, subject)` inside `tx`. False when either side is linked
/// already (a concurrent first sign-in won): the caller looks again.
pub async fn link(
    tx: &mut Tx,
    issuer: &str,
    subject: &str,
    user_id: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    const INSERT: &str =
        "INSERT INTO identity_links (issuer, subject, user_id, created_at) VALUES ($1, $2, $3, $4) \
                          ON CONFLICT DO NOTHING";
    with_tx!(tx, c => {
        sqlx::query(INSERT).bind(issuer).bind(subject).bind(user_id).bind(now).execute(c).await.map(|r| r.rows_affected() > 0)
    })
}
