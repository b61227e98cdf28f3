//! The pool: one of whichever database `DATABASE_URL` names (SQLite or PostgreSQL), its
//! transactions, and the health ping.
//!
//! The SQL in this crate is written once for both: `$1`-style parameters, which SQLite
//! accepts too. [`with_pool!`] runs the same query text against whichever pool is open.

use std::time::Duration;

use sqlx::{PgPool, SqlitePool};

use super::epoch::accounts_changed;

/// How long a request waits for a database connection before it is answered 503. While
/// the database is down this is also the longest a request waits for its 503.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
/// `/healthz` gives the database this long to answer `SELECT 1`.
pub const PING_TIMEOUT: Duration = Duration::from_secs(2);
/// A pooled PostgreSQL connection idle this long is pinged before it is used again.
pub(super) const RECHECK_IDLE_AFTER: Duration = Duration::from_secs(1);
/// Connections per instance. PostgreSQL's default `max_connections` (100) fits ten
/// instances at this size.
pub(super) const MAX_CONNECTIONS: u32 = 8;
/// The most descriptors the pool holds open: a SQLite connection keeps up to three (the
/// database, its WAL, its shared memory), a PostgreSQL one a socket.
pub const DESCRIPTORS: u64 = 3 * MAX_CONNECTIONS as u64;

/// The open database: one pool of whichever kind `DATABASE_URL` named.
#[derive(Clone, Debug)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$p` bound to the concrete pool (`&SqlitePool` or `&PgPool`), so
/// one query text serves both databases.
macro_rules! with_pool {
    ($pool:expr, $p:ident => $body:expr) => {
        match $pool {
            $crate::db::Pool::Sqlite($p) => $body,
            $crate::db::Pool::Postgres($p) => $body,
        }
    };
}
pub(super) use with_pool;

/// A transaction on whichever database is open. Begin every write transaction with a
/// write: on SQLite that takes the write lock first, so it never has to upgrade a read.
pub enum Tx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// Runs `$body` with `$c` bound to the transaction's connection (`&mut SqliteConnection`
/// or `&mut PgConnection`), as [`with_pool!`] does for a pool.
macro_rules! with_tx {
    ($tx:expr, $c:ident => $body:expr) => {
        match $tx {
            $crate::db::Tx::Sqlite(t) => {
                let $c = &mut **t;
                $body
            }
            $crate::db::Tx::Postgres(t) => {
                let $c = &mut **t;
                $body
            }
        }
    };
}
pub(super) use with_tx;

impl Tx {
    /// Makes every write of the transaction visible at once. Dropping a `Tx` without
    /// committing rolls it back. Every transaction writes accounts (users, sessions, their
    /// links), so a commit counts as [`accounts_changed`].
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(t) => t.commit().await,
            Tx::Postgres(t) => t.commit().await,
        }?;
        accounts_changed();
        Ok(())
    }
}

impl Pool {
    /// Closes every connection; later queries fail with `PoolClosed`.
    pub async fn close(&self) {
        with_pool!(self, p => p.close().await)
    }

    /// Starts a transaction.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Pool::Sqlite(p) => Tx::Sqlite(p.begin().await?),
            Pool::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }
}

/// One round trip, bounded in time: what `/healthz` reports.
pub async fn ping(pool: &Pool) -> bool {
    let query = async {
        with_pool!(pool, p => sqlx::query_scalar::<_, i64>("SELECT CAST(1 AS BIGINT)").fetch_one(p).await)
    };
    matches!(tokio::time::timeout(PING_TIMEOUT, query).await, Ok(Ok(1)))
}
