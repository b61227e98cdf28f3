//! Opening the database: SQLite (the default; the file and its directory are created on
//! first run) or PostgreSQL (for several instances sharing users and sessions). Either
//! way the migrations embedded in the binary are applied at start.

use std::time::Duration;

use sqlx::{postgres::PgPoolOptions, sqlite::SqlitePoolOptions};

use super::{
    migrations,
    pool::{Pool, ACQUIRE_TIMEOUT, MAX_CONNECTIONS, RECHECK_IDLE_AFTER},
};
use crate::config::Database;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("DATABASE_URL: cannot create directory {dir}: {source}")]
    CreateDir { dir: String, source: std::io::Error },
    #[error("DATABASE_URL: cannot open the database: {0}")]
    Open(sqlx::Error),
    #[error("DATABASE_URL: cannot apply migrations: {0}")]
    Migrate(sqlx::migrate::MigrateError),
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
            let pool = Pool::Sqlite(pool);
            migrations::apply(&pool).await.map_err(DbError::Migrate)?;
            Ok(pool)
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
            let pool = Pool::Postgres(pool);
            migrations::apply(&pool).await.map_err(DbError::Migrate)?;
            Ok(pool)
        }
    }
}
