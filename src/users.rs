//! The `users` table. Its columns and their mapping to [`User`] are written once here:
//! [`user_columns!`] for every query that reads a user (the session load joins them in
//! too), and [`User::from_row_opt`] for every row that holds them.

use sqlx::{ColumnIndex, Decode, FromRow, Row, Type};

use crate::{
    db::{with_pool, with_tx, Pool, Tx},
    domain::{DisplayName, Email},
    error::AppError,
};

/// The columns a [`User`] is read from, optionally qualified by a table alias:
/// `user_columns!()` is `"id AS id, email AS email, password_hash AS password_hash, …"`,
/// `user_columns!("u.")` the same with `u.` before each column. A literal, so queries stay `&'static str`.
macro_rules! user_columns {
    () => {
        $crate::users::user_columns!("")
    };
    // Named with AS: SQLite leaves the name of an unnamed `u.id` result column unspecified,
    // and the mapping reads the columns by name.
    ($alias:literal) => {
        concat!(
            $alias,
            "id AS id, ",
            $alias,
            "email AS email, ",
            $alias,
            "password_hash AS password_hash, ",
            $alias,
            "email_verified_at AS email_verified_at, ",
            $alias,
            "chat_id AS chat_id, ",
            $alias,
            "session_key AS session_key, ",
            $alias,
            "display_name AS display_name"
        )
    };
}
pub(crate) use user_columns;

/// An account as stored. `Debug` leaves the hash out.
#[derive(Clone)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub password_hash: String,
    /// When the owner proved the email (Unix seconds); `None` until then.
    pub email_verified_at: Option<i64>,
    /// The account's opaque chat identity (`CHATPASS_CHAT_IDENTITY=user-id`).
    pub chat_id: String,
    /// What the account's sessions are bound to: random, replaced when the password
    /// changes (which ends the sessions signed in before).
    pub session_key: String,
    /// The display name the owner chose (a parsed [`DisplayName`]), or `None`: then the
    /// account is shown by [`User::display_name_or_default`]'s default.
    pub display_name: Option<String>,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User").field("id", &self.id).finish_non_exhaustive()
    }
}

impl User {
    /// The name this account is shown by: the one chosen, or else the default derived from
    /// the email (its local part; see [`DisplayName::default_for`]).
    pub fn display_name_or_default(&self) -> String {
        match &self.display_name {
            Some(chosen) => chosen.clone(),
            None => DisplayName::default_for_stored_email(&self.email).into_string(),
        }
    }

    /// The user in a row holding [`user_columns!`], or `None` when they are NULL (a LEFT
    /// JOIN that found no user).
    pub fn from_row_opt<'r, R>(row: &'r R) -> Result<Option<User>, sqlx::Error>
    where
        R: Row,
        &'r str: ColumnIndex<R>,
        Option<i64>: Decode<'r, R::Database> + Type<R::Database>,
        Option<String>: Decode<'r, R::Database> + Type<R::Database>,
    {
        let id: Option<i64> = row.try_get("id")?;
        let email: Option<String> = row.try_get("email")?;
        let password_hash: Option<String> = row.try_get("password_hash")?;
        let email_verified_at: Option<i64> = row.try_get("email_verified_at")?;
        let chat_id: Option<String> = row.try_get("chat_id")?;
        let session_key: Option<String> = row.try_get("session_key")?;
        let display_name: Option<String> = row.try_get("display_name")?;
        Ok(match (id, email, password_hash) {
            (Some(id), Some(email), Some(password_hash)) => Some(User {
                id,
                email,
                password_hash,
                email_verified_at,
                chat_id: chat_id.unwrap_or_default(),
                session_key: session_key.unwrap_or_default(),
                display_name,
            }),
            _ => None,
        })
    }
}

impl<'r, R> FromRow<'r, R> for User
where
    R: Row,
    &'r str: ColumnIndex<R>,
    Option<i64>: Decode<'r, R::Database> + Type<R::Database>,
    Option<String>: Decode<'r, R::Database> + Type<R::Database>,
{
    fn from_row(row: &'r R) -> Result<Self, sqlx::Error> {
        User::from_row_opt(row)?.ok_or_else(|| sqlx::Error::ColumnNotFound("id".into()))
    }
}

/// A new account's opaque chat identity: 128 random bits, hex.
pub fn new_chat_id() -> String {
    crate::security::random_hex(16)
}

/// A fresh value for `users.session_key`: 128 random bits, hex.
pub fn new_session_key() -> String {
    crate::security::random_hex(16)
}

/// Inserts a user inside `tx`; an email that exists (in any case) is
/// [`AppError::EmailTaken`]. `verified_at`: when the email counts as proven, if it does;
/// `display_name`: the name chosen at sign-up, if one was (else the default is shown).
pub async fn insert(
    tx: &mut Tx,
    email: &Email,
    password_hash: &str,
    verified_at: Option<i64>,
    display_name: Option<&DisplayName>,
) -> Result<User, AppError> {
    const INSERT: &str = concat!(
        "INSERT INTO users (email, password_hash, email_verified_at, chat_id, session_key, display_name) ",
        "VALUES ($1, $2, $3, $4, $5, $6) RETURNING ",
        user_columns!()
    );
    let chat_id = new_chat_id();
    let result = with_tx!(tx, c => {
        sqlx::query_as::<_, User>(INSERT)
            .bind(email.as_str())
            .bind(password_hash)
            .bind(verified_at)
            .bind(&chat_id)
            .bind(new_session_key())
            .bind(display_name.map(DisplayName::as_str))
            .fetch_one(c)
            .await
    });
    match result {
        Ok(user) => Ok(user),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(AppError::EmailTaken),
        Err(e) => Err(e.into()),
    }
}

/// Inserts a user on its own (no other writes with it).
pub async fn create(
    pool: &Pool,
    email: &Email,
    password_hash: &str,
    verified_at: Option<i64>,
    display_name: Option<&DisplayName>,
) -> Result<User, AppError> {
    let mut tx = pool.begin().await?;
    let user = insert(&mut tx, email, password_hash, verified_at, display_name).await?;
    tx.commit().await?;
    Ok(user)
}

pub async fn by_email(pool: &Pool, email: &Email) -> Result<Option<User>, sqlx::Error> {
    const SELECT: &str = concat!("SELECT ", user_columns!(), " FROM users WHERE email = $1");
    with_pool!(pool, p => sqlx::query_as::<_, User>(SELECT).bind(email.as_str()).fetch_optional(p).await)
}

pub async fn by_id(pool: &Pool, id: i64) -> Result<Option<User>, sqlx::Error> {
    const SELECT: &str = concat!("SELECT ", user_columns!(), " FROM users WHERE id = $1");
    with_pool!(pool, p => sqlx::query_as::<_, User>(SELECT).bind(id).fetch_optional(p).await)
}

pub async fn email_exists(pool: &Pool, email: &Email) -> Result<bool, sqlx::Error> {
    with_pool!(pool, p => {
        sqlx::query_scalar::<_, bool>("SELECT EXISTS (SELECT 1 FROM users WHERE email = $1)")
            .bind(email.as_str())
            .fetch_one(p)
            .await
    })
}

/// Takes `user_id`'s row for the rest of `tx` and reads it as it is now: concurrent
/// transactions that lock the same user wait until this one ends, so a count taken next
/// (mails this hour, say) cannot be raced. A no-op write is the one row lock SQLite and
/// PostgreSQL share (SQLite has no `FOR UPDATE`; the write takes its database lock).
/// `None` when the user is gone.
pub async fn lock(tx: &mut Tx, user_id: i64) -> Result<Option<User>, sqlx::Error> {
    const UPDATE: &str = concat!("UPDATE users SET email = email WHERE id = $1 RETURNING ", user_columns!());
    with_tx!(tx, c => sqlx::query_as::<_, User>(UPDATE).bind(user_id).fetch_optional(c).await)
}

/// Marks `email` proven for `user_id` at `now`, inside `tx`, and sets `new_password_hash`
/// when given; the user as it is afterwards. `None` when the user is gone or no longer
/// has that email.
pub async fn mark_verified(
    tx: &mut Tx,
    user_id: i64,
    email: &str,
    now: i64,
    new_password_hash: Option<&str>,
) -> Result<Option<User>, sqlx::Error> {
    const UPDATE: &str = concat!(
        "UPDATE users SET email_verified_at = COALESCE(email_verified_at, $1), ",
        "password_hash = COALESCE($4, password_hash), ",
        "session_key = CASE WHEN $4 IS NULL THEN session_key ELSE $5 END ",
        "WHERE id = $2 AND email = $3 RETURNING ",
        user_columns!()
    );
    with_tx!(tx, c => {
        sqlx::query_as::<_, User>(UPDATE)
            .bind(now)
            .bind(user_id)
            .bind(email)
            .bind(new_password_hash)
            .bind(new_session_key())
            .fetch_optional(c)
            .await
    })
}

/// Sets `user_id`'s password hash inside `tx` and replaces their session key (every
/// session signed in before stops working); with `current`, only while the stored hash is
/// still that one (of two concurrent changes, one wins). The user as it is afterwards;
/// `None` when they are gone or the hash changed meanwhile.
pub async fn set_password(
    tx: &mut Tx,
    user_id: i64,
    current: Option<&str>,
    new_hash: &str,
) -> Result<Option<User>, sqlx::Error> {
    const UPDATE: &str = concat!(
        "UPDATE users SET password_hash = $1, session_key = $2 ",
        "WHERE id = $3 AND ($4 IS NULL OR password_hash = $4) RETURNING ",
        user_columns!()
    );
    with_tx!(tx, c => {
        sqlx::query_as::<_, User>(UPDATE)
            .bind(new_hash)
            .bind(new_session_key())
            .bind(user_id)
            .bind(current)
            .fetch_optional(c)
            .await
    })
}

/// Sets `user_id`'s display name (one statement: of concurrent changes the last one
/// stays, whole). The name as stored; `None` when the user is gone. The session key is
/// left alone: every session stays signed in.
pub async fn set_display_name(
    pool: &Pool,
    user_id: i64,
    name: &DisplayName,
) -> Result<Option<String>, sqlx::Error> {
    const UPDATE: &str = "UPDATE users SET display_name = $1 WHERE id = $2 RETURNING display_name";
    let stored = with_pool!(pool, p => {
        sqlx::query_scalar::<_, String>(UPDATE).bind(name.as_str()).bind(user_id).fetch_optional(p).await
    });
    crate::db::accounts_changed();
    stored
}

/// Marks `user_id`'s email proven at `now` (unless it already was), inside `tx`.
pub async fn mark_email_proven(tx: &mut Tx, user_id: i64, now: i64) -> Result<(), sqlx::Error> {
    const UPDATE: &str = "UPDATE users SET email_verified_at = COALESCE(email_verified_at, $1) WHERE id = $2";
    with_tx!(tx, c => sqlx::query(UPDATE).bind(now).bind(user_id).execute(c).await.map(drop))
}

/// Deletes `user_id` inside `tx`, with everything that references them (sessions, mail
/// links, mail not sent yet: `ON DELETE CASCADE`). False when they were already gone.
pub async fn delete(tx: &mut Tx, user_id: i64) -> Result<bool, sqlx::Error> {
    with_tx!(tx, c => {
        sqlx::query("DELETE FROM users WHERE id = $1").bind(user_id).execute(c).await.map(|r| r.rows_affected() > 0)
    })
}

/// The day `user_id` signed up, `YYYY-MM-DD` (UTC).
pub async fn created_on(pool: &Pool, user_id: i64) -> Result<Option<String>, sqlx::Error> {
    match pool {
        Pool::Sqlite(p) => {
            sqlx::query_scalar("SELECT substr(created_at, 1, 10) FROM users WHERE id = $1")
                .bind(user_id)
                .fetch_optional(p)
                .await
        }
        Pool::Postgres(p) => {
            sqlx::query_scalar(
                "SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') FROM users WHERE id = $1",
            )
            .bind(user_id)
            .fetch_optional(p)
            .await
        }
    }
}
