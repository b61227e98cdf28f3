//! The `users` table.

use sqlx::FromRow;

use crate::{
    db::{with_pool, Pool},
    domain::Email,
    error::AppError,
};

/// An account as stored. `Debug` leaves the hash out.
#[derive(Clone, FromRow)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub password_hash: String,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User").field("id", &self.id).finish_non_exhaustive()
    }
}

/// Inserts a user; an email that exists (in any case) is [`AppError::EmailTaken`].
pub async fn create(pool: &Pool, email: &Email, password_hash: &str) -> Result<User, AppError> {
    let result = with_pool!(pool, p => {
        sqlx::query_as::<_, User>(
            "INSERT INTO users (email, password_hash) VALUES ($1, $2) RETURNING id, email, password_hash",
        )
        .bind(email.as_str())
        .bind(password_hash)
        .fetch_one(p)
        .await
    });
    match result {
        Ok(user) => Ok(user),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(AppError::EmailTaken),
        Err(e) => Err(e.into()),
    }
}

pub async fn by_email(pool: &Pool, email: &Email) -> Result<Option<User>, sqlx::Error> {
    with_pool!(pool, p => {
        sqlx::query_as::<_, User>("SELECT id, email, password_hash FROM users WHERE email = $1")
            .bind(email.as_str())
            .fetch_optional(p)
            .await
    })
}

pub async fn by_id(pool: &Pool, id: i64) -> Result<Option<User>, sqlx::Error> {
    with_pool!(pool, p => {
        sqlx::query_as::<_, User>("SELECT id, email, password_hash FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(p)
            .await
    })
}

pub async fn email_exists(pool: &Pool, email: &Email) -> Result<bool, sqlx::Error> {
    with_pool!(pool, p => {
        sqlx::query_scalar::<_, bool>("SELECT EXISTS (SELECT 1 FROM users WHERE email = $1)")
            .bind(email.as_str())
            .fetch_one(p)
            .await
    })
}
