//! Opening the database: creates the SQLite file (and its directory) on first run and
//! applies the migrations embedded in the binary.

use std::time::Duration;

use sqlx::{sqlite::SqlitePoolOptions, SqlitePool};

use crate::config::Database;

/// How long a request waits for a database connection before it is answered 503.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("DATABASE_URL: cannot create directory {dir}: {source}")]
    CreateDir { dir: String, source: std::io::Error },
    #[error("DATABASE_URL: cannot open the database: {0}")]
    Open(sqlx::Error),
    #[error("DATABASE_URL: cannot apply migrations: {0}")]
    Migrate(sqlx::migrate::MigrateError),
}

pub type Pool = SqlitePool;

/// Opens the pool and migrates. Nothing is created on disk before the directory check passes.
pub async fn open(database: &Database) -> Result<Pool, DbError> {
    let Database::Sqlite { options, file } = database;
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
        .max_connections(8)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(options)
        .await
        .map_err(DbError::Open)?;
    sqlx::migrate!("./migrations").run(&pool).await.map_err(DbError::Migrate)?;
    Ok(pool)
}

/// One round trip, bounded in time: what `/healthz` reports.
pub async fn ping(pool: &Pool) -> bool {
    let query = sqlx::query_scalar::<_, i64>("SELECT 1").fetch_one(pool);
    matches!(tokio::time::timeout(Duration::from_secs(2), query).await, Ok(Ok(1)))
}
