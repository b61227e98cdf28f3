//! The migrations embedded in the binary (`migrations/sqlite/`, `migrations/postgres/`):
//! applied at start, and counted for `/readyz`.

use sqlx::migrate::MigrateError;

use super::pool::Pool;

/// Applies every embedded migration not applied yet. On PostgreSQL sqlx holds an advisory
/// lock while it migrates, so of several instances starting at once one applies each.
pub(super) async fn apply(pool: &Pool) -> Result<(), MigrateError> {
    match pool {
        Pool::Sqlite(p) => sqlx::migrate!("./migrations/sqlite").run(p).await,
        Pool::Postgres(p) => sqlx::migrate!("./migrations/postgres").run(p).await,
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
