//! Opening the database: SQLite (the default; the file and its directory are created on
//! first run) or PostgreSQL (for several instances sharing users and sessions). Either
//! way the migrations embedded in the binary are applied at start.
//!
//! The SQL in this crate is written once for both: `$1`-style parameters, which SQLite
//! accepts too. [`with_pool!`] runs the same query text against whichever pool is open.

use std::time::Duration;

use sqlx::{postgres::PgPoolOptions, sqlite::SqlitePoolOptions, PgPool, SqlitePool};

use crate::config::Database;

/// How long a request waits for a database connection before it is answered 503. While
/// the database is down this is also the longest a request waits for its 503.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
/// `/healthz` gives the database this long to answer `SELECT 1`.
pub const PING_TIMEOUT: Duration = Duration::from_secs(2);
/// A pooled PostgreSQL connection idle this long is pinged before it is used again.
const RECHECK_IDLE_AFTER: Duration = Duration::from_secs(1);
/// Connections per instance. PostgreSQL's default `max_connections` (100) fits ten
/// instances at this size.
const MAX_CONNECTIONS: u32 = 8;
/// The most descriptors the pool holds open: a SQLite connection keeps up to three (the
/// database, its WAL, its shared memory), a PostgreSQL one a socket.
pub const DESCRIPTORS: u64 = 3 * MAX_CONNECTIONS as u64;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("DATABASE_URL: cannot create directory {dir}: {source}")]
    CreateDir { dir: String, source: std::io::Error },
    #[error("DATABASE_URL: cannot open the database: {0}")]
    Open(sqlx::Error),
    #[error("DATABASE_URL: cannot apply migrations: {0}")]
    Migrate(sqlx::migrate::MigrateError),
}

/// The open database: one pool of whichever kind `DATABASE_URL` named.
#[derive(Clone, Debug)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$p` bound to the concrete pool (`&SqlitePool` or `&PgPool`), so
/// one query text serves both databases.
use std::sync::atomic::{AtomicU64, Ordering};

macro_rules! with_pool {
    ($pool:expr, $p:ident => $body:expr) => {
        match $pool {
            $crate::db::Pool::Sqlite($p) => $body,
            $crate::db::Pool::Postgres($p) => $body,
        }
    };
}
pub(crate) use with_pool;

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
pub(crate) use with_tx;

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

/// Counts the committed writes to accounts (users and sessions) this process made: a
/// transaction's commit, a session row created, saved or deleted, a display name set.
static ACCOUNTS_EPOCH: AtomicU64 = AtomicU64::new(0);

/// Now's count of account writes. A cache of account rows keeps an entry only while the
/// count is what it was when the entry was read from the database: anything written
/// since (on this instance) makes it read again.
pub fn accounts_epoch() -> u64 {
    ACCOUNTS_EPOCH.load(Ordering::Acquire)
}

/// Call after (never before) a write to accounts outside a [`Tx`] has completed.
pub fn accounts_changed() {
    ACCOUNTS_EPOCH.fetch_add(1, Ordering::AcqRel);
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

/// Whether every migration this binary embeds has been applied (for `/readyz`): an
/// instance of an older version sharing the database sees fewer, one of a newer more.
pub async fn migrations_applied(pool: &Pool) -> bool {
    const COUNT: &str = "SELECT COUNT(*) FROM _sqlx_migrations WHERE success";
    let (embedded, applied) = match pool {
        Pool::Sqlite(p) => (
            sqlx::migrate!("./migrations/sqlite").iter().count(),
            sqlx::query_scalar::<_, i64>(COUNT).fetch_one(p).await,
        ),
        Pool::Postgres(p) => (
            sqlx::migrate!("./migrations/postgres").iter().count(),
            sqlx::query_scalar::<_, i64>(COUNT).fetch_one(p).await,
        ),
    };
    applied.is_ok_and(|n| usize::try_from(n).is_ok_and(|n| n >= embedded))
}

/// Opens the pool and migrates. Nothing is created on disk before the directory check passes.
pub async fn open(database: &Database) -> Result<Pool, DbError> {
    match database {
        Database::Sqlite { options, file } => {
            if let Some(file) = file {
                if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .map_err(|source| DbError::CreateDir { dir: dir.display().to_string(), source })?;
                }
            }
            let options = options
                .clone()
                .create_if_missing(true)
                .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5));
            let pool = SqlitePoolOptions::new()
                .max_connections(MAX_CONNECTIONS)
                // An embedded database's connection cannot drop: no ping before each use.
                .test_before_acquire(false)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .connect_with(options)
                .await
                .map_err(DbError::Open)?;
            sqlx::migrate!("./migrations/sqlite").run(&pool).await.map_err(DbError::Migrate)?;
            Ok(Pool::Sqlite(pool))
        }
        Database::Postgres(options) => {
            let pool = match PgPoolOptions::new()
                .max_connections(MAX_CONNECTIONS)
                // sqlx pings every connection before handing it out: a whole extra round
                // trip per query. Ping only those idle for a while, which is where a
                // dropped connection (a server restart, a failover) hides; a busy one that
                // turns out dead fails its one query with 503 and is discarded.
                .test_before_acquire(false)
                .before_acquire(|connection, meta| {
                    Box::pin(async move {
                        if meta.idle_for >= RECHECK_IDLE_AFTER {
                            sqlx::Connection::ping(connection).await?;
                        }
                        Ok(true)
                    })
                })
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .connect_with(options.clone())
                .await
            {
                Ok(pool) => pool,
                // The pool only says it timed out; one direct attempt says why
                // ("Connection refused", "password authentication failed", ...).
                Err(sqlx::Error::PoolTimedOut) => {
                    use sqlx::Connection;
                    // Bounded too: a server that accepts but never answers must not hang
                    // the start.
                    let attempt =
                        tokio::time::timeout(ACQUIRE_TIMEOUT, sqlx::PgConnection::connect_with(options));
                    let why = match attempt.await {
                        Ok(Ok(connection)) => {
                            let _ = connection.close().await;
                            sqlx::Error::PoolTimedOut
                        }
                        Ok(Err(e)) => e,
                        Err(_) => sqlx::Error::PoolTimedOut,
                    };
                    return Err(DbError::Open(why));
                }
                Err(e) => return Err(DbError::Open(e)),
            };
            // Several instances may start at once: sqlx holds an advisory lock while it
            // migrates, so exactly one of them applies each migration.
            sqlx::migrate!("./migrations/postgres").run(&pool).await.map_err(DbError::Migrate)?;
            Ok(Pool::Postgres(pool))
        }
    }
}

/// One round trip, bounded in time: what `/healthz` reports.
pub async fn ping(pool: &Pool) -> bool {
    let query = async {
        with_pool!(pool, p => sqlx::query_scalar::<_, i64>("SELECT CAST(1 AS BIGINT)").fetch_one(p).await)
    };
    matches!(tokio::time::timeout(PING_TIMEOUT, query).await, Ok(Ok(1)))
}
