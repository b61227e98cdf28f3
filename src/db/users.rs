//! The `users` table. Its columns and their mapping to [`User`] are written once here:
//! [`user_columns!`] for every query that reads a user (the session load joins them in
//! too), and [`User::from_row_opt`] for every row that holds them.

use sqlx::{ColumnIndex, Decode, FromRow, Row, Type};

use super::pool::{with_pool, with_tx, Pool, Tx};
use crate::{
    config::{ChatIdentity, Verification},
    domain::{DisplayName, DisplayNameError, Email},
    error::AppError,
};

/// The columns a [`User`] is read from, optionally qualified by a table alias:
/// `user_columns!()` is `"id AS id, email AS email, password_hash AS password_hash, …"`,
/// `user_columns!("u.")` the same with `u.` before each column. A literal, so queries stay `&'static str`.
macro_rules! user_columns {
    () => {
        $crate::db::users::user_columns!("")
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
pub(super) use user_columns;

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

    /// Whether the account may chat: its email proven, unless proof is off.
    pub fn may_chat(&self, verification: Verification) -> bool {
        verification == Verification::Off || self.email_verified_at.is_some()
    }

    /// The identity Twilio knows the account by: its email, or its opaque id.
    pub fn chat_identity(&self, mode: ChatIdentity) -> &str {
        match mode {
            ChatIdentity::Email => &self.email,
            ChatIdentity::UserId => &self.chat_id,
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

/// The password hash of an account nobody has chosen a password for yet (a sign-up names
/// only an address; the owner chooses on the verification link's page). No argon2 hash
/// looks like it, so no password matches it.
pub const NO_PASSWORD: &str = "!";

/// A unique violation on the display names' look-alike key (`users_display_name_key`),
/// as opposed to the email's.
fn is_display_name_taken(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation() && e.message().contains("display_name_key"))
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
        "INSERT INTO users (email, password_hash, email_verified_at, chat_id, session_key, display_name, display_name_key) ",
        "VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ",
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
            .bind(display_name.map(DisplayName::key))
            .fetch_one(c)
            .await
    });
    match result {
        Ok(user) => Ok(user),
        Err(e) if is_display_name_taken(&e) => Err(DisplayNameError::Taken.into()),
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
pub async fn lock_row_for_update(tx: &mut Tx, user_id: i64) -> Result<Option<User>, sqlx::Error> {
    const UPDATE: &str = concat!("UPDATE users SET email = email WHERE id = $1 RETURNING ", user_columns!());
    with_tx!(tx, c => sqlx::query_as::<_, User>(UPDATE).bind(user_id).fetch_optional(c).await)
}

/// Proves `email` for `user_id` at `now`, inside `tx`, with what its owner chose on the
/// link's page: the password (and a new session key), the display name (none: the
/// default). Whatever the account held before is replaced. `None` when the user is gone,
/// no longer has that email, or was proven meanwhile.
pub async fn prove_email(
    tx: &mut Tx,
    user_id: i64,
    email: &str,
    now: i64,
    password_hash: &str,
    display_name: Option<&DisplayName>,
) -> Result<Option<User>, AppError> {
    const UPDATE: &str = concat!(
        "UPDATE users SET email_verified_at = $1, password_hash = $4, session_key = $5, ",
        "display_name = $6, display_name_key = $7 ",
        "WHERE id = $2 AND email = $3 AND email_verified_at IS NULL RETURNING ",
        user_columns!()
    );
    let proven = with_tx!(tx, c => {
        sqlx::query_as::<_, User>(UPDATE)
            .bind(now)
            .bind(user_id)
            .bind(email)
            .bind(password_hash)
            .bind(new_session_key())
            .bind(display_name.map(DisplayName::as_str))
            .bind(display_name.map(DisplayName::key))
            .fetch_optional(c)
            .await
    });
    match proven {
        Err(e) if is_display_name_taken(&e) => Err(DisplayNameError::Taken.into()),
        other => Ok(other?),
    }
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

/// Sets `user_id`'s display name inside `tx` (one statement: of concurrent changes the
/// last one stays, whole). The user as changed; `None` when they are gone. The session key
/// is left alone: every session stays signed in.
pub async fn set_display_name(
    tx: &mut Tx,
    user_id: i64,
    name: &DisplayName,
) -> Result<Option<User>, AppError> {
    const UPDATE: &str = concat!(
        "UPDATE users SET display_name = $1, display_name_key = $2 WHERE id = $3 RETURNING ",
        user_columns!()
    );
    let changed = with_tx!(tx, c => {
        sqlx::query_as::<_, User>(UPDATE).bind(name.as_str()).bind(name.key()).bind(user_id).fetch_optional(c).await
    });
    match changed {
        Err(e) if is_display_name_taken(&e) => Err(DisplayNameError::Taken.into()),
        other => Ok(other?),
    }
}

/// Fills `display_name_key` for names stored without one (the key is computed here, not
/// in SQL). A name that poses (an address, the service's staff) goes back to the default;
/// one whose look-alike key another name holds stays without a key (the chat shows
/// every author's identity beside the name), and its next change is checked.
pub async fn backfill_display_name_keys(pool: &Pool) -> Result<(), sqlx::Error> {
    const SELECT: &str =
        "SELECT id, display_name FROM users WHERE display_name IS NOT NULL AND display_name_key IS NULL";
    const UPDATE: &str = "UPDATE users SET display_name_key = $1 WHERE id = $2 \
                          AND NOT EXISTS (SELECT 1 FROM users WHERE display_name_key = $1)";
    let rows: Vec<(i64, String)> = with_pool!(pool, p => sqlx::query_as(SELECT).fetch_all(p).await)?;
    for (id, name) in rows {
        let Ok(parsed) = DisplayName::parse(&name) else {
            const CLEAR: &str = "UPDATE users SET display_name = NULL WHERE id = $1";
            with_pool!(pool, p => sqlx::query(CLEAR).bind(id).execute(p).await.map(drop))?;
            tracing::info!(user.id = id, "a display name that poses was set back to the default");
            continue;
        };
        let key = parsed.key();
        let updated =
            with_pool!(pool, p => sqlx::query(UPDATE).bind(&key).bind(id).execute(p).await.map(drop));
        if let Err(e) = updated {
            if !is_display_name_taken(&e) {
                return Err(e);
            }
        }
    }
    Ok(())
}

/// Marks `user_id`'s email proven at `now` (unless it already was), inside `tx`. A display
/// name set while nobody had proven the email (by whoever signed up) is dropped with it.
pub async fn mark_email_proven(tx: &mut Tx, user_id: i64, now: i64) -> Result<(), sqlx::Error> {
    const UPDATE: &str = "UPDATE users SET \
                          display_name = CASE WHEN email_verified_at IS NULL THEN NULL ELSE display_name END, \
                          display_name_key = CASE WHEN email_verified_at IS NULL THEN NULL ELSE display_name_key END, \
                          email_verified_at = COALESCE(email_verified_at, $1) WHERE id = $2";
    with_tx!(tx, c => sqlx::query(UPDATE).bind(now).bind(user_id).execute(c).await.map(drop))
}

/// Hands an unproven account to the provider's user who proved its email, inside `tx`: the
/// password (whoever chose it may be a stranger) is voided, the session key replaced (every
/// session ends), the email marked proven at `now` and the display name chosen before dropped.
pub async fn take_over_unproven(tx: &mut Tx, user_id: i64, now: i64) -> Result<Option<User>, sqlx::Error> {
    const UPDATE: &str = concat!(
        "UPDATE users SET password_hash = $1, session_key = $2, email_verified_at = $3, ",
        "display_name = NULL, display_name_key = NULL WHERE id = $4 AND email_verified_at IS NULL RETURNING ",
        user_columns!()
    );
    with_tx!(tx, c => {
        sqlx::query_as::<_, User>(UPDATE)
            .bind(NO_PASSWORD)
            .bind(new_session_key())
            .bind(now)
            .bind(user_id)
            .fetch_optional(c)
            .await
    })
}

/// Sets `user_id`'s email inside `tx` (the provider says it changed); `None` when another
/// account holds that email (the stored one stays) or the user is gone.
pub async fn set_email(tx: &mut Tx, user_id: i64, email: &Email) -> Result<Option<User>, sqlx::Error> {
    const UPDATE: &str = concat!(
        "UPDATE users SET email = $1 WHERE id = $2 AND NOT EXISTS (SELECT 1 FROM users WHERE email = $1 AND id <> $2) ",
        "RETURNING ",
        user_columns!()
    );
    with_tx!(tx, c => sqlx::query_as::<_, User>(UPDATE).bind(email.as_str()).bind(user_id).fetch_optional(c).await)
}

/// Deletes `user_id` inside `tx`, with everything that references them (sessions, mail
/// links, mail not sent yet: `ON DELETE CASCADE`). The row as it was; `None` when it was
/// already gone.
pub async fn delete(tx: &mut Tx, user_id: i64) -> Result<Option<User>, sqlx::Error> {
    const DELETE: &str = concat!("DELETE FROM users WHERE id = $1 RETURNING ", user_columns!());
    with_tx!(tx, c => sqlx::query_as::<_, User>(DELETE).bind(user_id).fetch_optional(c).await)
}

/// The account Twilio knows by `identity` (its email or its opaque id, as `mode` says).
pub async fn by_chat_identity(
    pool: &Pool,
    mode: ChatIdentity,
    identity: &str,
) -> Result<Option<User>, sqlx::Error> {
    const BY_EMAIL: &str = concat!("SELECT ", user_columns!(), " FROM users WHERE email = $1");
    const BY_CHAT_ID: &str = concat!("SELECT ", user_columns!(), " FROM users WHERE chat_id = $1");
    let select = if mode == ChatIdentity::Email { BY_EMAIL } else { BY_CHAT_ID };
    with_pool!(pool, p => sqlx::query_as::<_, User>(select).bind(identity).fetch_optional(p).await)
}

/// Accounts with `id` above `after`, in id order, at most `limit` (for `chatpass twilio sync`).
pub async fn page_after(pool: &Pool, after: i64, limit: i64) -> Result<Vec<User>, sqlx::Error> {
    const SELECT: &str =
        concat!("SELECT ", user_columns!(), " FROM users WHERE id > $1 ORDER BY id LIMIT $2");
    with_pool!(pool, p => sqlx::query_as::<_, User>(SELECT).bind(after).bind(limit).fetch_all(p).await)
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
