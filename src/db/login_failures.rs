//! The `login_failures` table: failed-login counts in fixed windows, per scope and key.
//! Storage only; the policy (which keys, which budgets, when to forgive an attempt) is
//! `auth::limits::FailedLogins`.
//!
//! Every statement is one atomic write, so concurrent guesses count one after the other:
//! a guess is counted as a failure ([`record_failed_login`]) before the password is
//! checked, and forgiven ([`forgive_failed_login`]) when it turns out not to be one.

use super::pool::{with_pool, Pool};

/// What a count is kept for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// One account from one client address.
    Pair,
    /// Every account from one client address.
    Address,
}

impl Scope {
    fn as_str(self) -> &'static str {
        match self {
            Scope::Pair => "pair",
            Scope::Address => "address",
        }
    }
}

/// A key's count after [`record_failed_login`]: this attempt included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct Count {
    pub failures: i64,
    pub window_start: i64,
}

/// Counts one attempt for `key` at `now` as a failure (until it is forgiven), in a window
/// of `window_secs` that starts with the first attempt after the last window ended; the
/// count afterwards.
pub async fn record_failed_login(
    pool: &Pool,
    scope: Scope,
    key: &str,
    now: i64,
    window_secs: i64,
) -> Result<Count, sqlx::Error> {
    // SET expressions read the row as it was, so both CASEs see the old window.
    const UPSERT: &str = "INSERT INTO login_failures (scope, key, window_start, failures) VALUES ($1, $2, $3, 1) \
         ON CONFLICT (scope, key) DO UPDATE SET \
         failures = CASE WHEN login_failures.window_start <= $4 THEN 1 ELSE login_failures.failures + 1 END, \
         window_start = CASE WHEN login_failures.window_start <= $4 THEN $3 ELSE login_failures.window_start END \
         RETURNING CAST(failures AS BIGINT) AS failures, window_start";
    with_pool!(pool, p => {
        sqlx::query_as::<_, Count>(UPSERT)
            .bind(scope.as_str())
            .bind(key)
            .bind(now)
            .bind(now - window_secs)
            .fetch_one(p)
            .await
    })
}

/// Takes one failure of `key` off its count (an attempt that turned out not to be one).
pub async fn forgive_failed_login(pool: &Pool, scope: Scope, key: &str) -> Result<(), sqlx::Error> {
    const UPDATE: &str =
        "UPDATE login_failures SET failures = failures - 1 WHERE scope = $1 AND key = $2 AND failures > 0";
    with_pool!(pool, p => sqlx::query(UPDATE).bind(scope.as_str()).bind(key).execute(p).await.map(drop))
}

/// Forgets `key`'s count (a successful login clears its pair).
pub async fn clear(pool: &Pool, scope: Scope, key: &str) -> Result<(), sqlx::Error> {
    const DELETE: &str = "DELETE FROM login_failures WHERE scope = $1 AND key = $2";
    with_pool!(pool, p => sqlx::query(DELETE).bind(scope.as_str()).bind(key).execute(p).await.map(drop))
}

/// Deletes counts whose window started before `before` (ended windows); how many.
pub async fn sweep(pool: &Pool, before: i64) -> Result<u64, sqlx::Error> {
    const DELETE: &str = "DELETE FROM login_failures WHERE window_start < $1";
    with_pool!(pool, p => sqlx::query(DELETE).bind(before).execute(p).await.map(|r| r.rows_affected()))
}
