//! The sessions table (`tower_sessions` in SQLite, `tower_sessions.session` in
//! PostgreSQL, where every instance sees every session): the rows the session store
//! writes and loads (`sessions::store` keeps the cache and the tower-sessions side), and
//! one user's sessions for the account page, by their handles (never their ids).
//!
//! Rows are tower-sessions records (MessagePack) plus a `user_id` column, so a load joins
//! the signed-in user in; a new row also gets a random `handle`, the coarse `agent` and
//! `created_at`, and `seen_at` is kept to the minute.
//!
//! Every per-user statement is scoped by `user_id`: a handle of another user's session
//! names nothing here. An ending is an account write: this instance's cached reads go at
//! once (`accounts_changed`), other instances' within `sessions::CACHE_FOR`.

use sqlx::Row as _;
use time::OffsetDateTime;
use tower_sessions::session::Id;

use super::{
    epoch::accounts_changed,
    pool::{with_pool, with_tx, Pool, Tx},
    users::{user_columns, User},
};

/// The statements, one set per database; they differ only in the table's name.
struct Statements {
    insert_new: &'static str,
    save: &'static str,
    load_with_user: &'static str,
    mark_seen: &'static str,
    delete: &'static str,
    delete_expired: &'static str,
    delete_for_user: &'static str,
    list_for_user: &'static str,
    end_by_handle: &'static str,
    end_all_but: &'static str,
    keep_newest: &'static str,
}

macro_rules! statements {
    ($table:literal) => {
        Statements {
            insert_new: concat!(
                "INSERT INTO ",
                $table,
                " (id, data, expiry_date, user_id, handle, agent, created_at, seen_at) ",
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT (id) DO NOTHING"
            ),
            // Only `insert_new` inserts. A save of a row that is gone (logged out, or its
            // user deleted, while this request was in flight) writes nothing: an upsert
            // would bring the ended session back.
            save: concat!("UPDATE ", $table, " SET data = $2, expiry_date = $3, user_id = $4 WHERE id = $1"),
            load_with_user: concat!(
                "SELECT s.data, s.seen_at, ",
                user_columns!("u."),
                " FROM ",
                $table,
                " s ",
                "LEFT JOIN users u ON u.id = s.user_id WHERE s.id = $1 AND s.expiry_date > $2"
            ),
            mark_seen: concat!(
                "UPDATE ",
                $table,
                " SET seen_at = $2 WHERE id = $1 AND (seen_at IS NULL OR seen_at <= $3)"
            ),
            delete: concat!("DELETE FROM ", $table, " WHERE id = $1"),
            delete_expired: concat!("DELETE FROM ", $table, " WHERE expiry_date < $1"),
            delete_for_user: concat!("DELETE FROM ", $table, " WHERE user_id = $1"),
            list_for_user: concat!(
                "SELECT handle, agent, created_at, seen_at, ",
                "CAST(CASE WHEN id = $2 THEN 1 ELSE 0 END AS BIGINT) AS is_current FROM ",
                $table,
                " WHERE user_id = $1 AND handle IS NOT NULL AND expiry_date > $3 ",
                "ORDER BY COALESCE(created_at, 0) DESC, handle"
            ),
            end_by_handle: concat!(
                "DELETE FROM ",
                $table,
                " WHERE user_id = $1 AND handle = $2 RETURNING id"
            ),
            end_all_but: concat!("DELETE FROM ", $table, " WHERE user_id = $1 AND id <> $2"),
            // Keeps the newest `$2` live sessions; ends the rest.
            keep_newest: concat!(
                "DELETE FROM ",
                $table,
                " WHERE user_id = $1 AND id NOT IN (SELECT id FROM ",
                $table,
                " WHERE user_id = $1 AND expiry_date > $3 ",
                "ORDER BY COALESCE(created_at, 0) DESC, id DESC LIMIT $2)"
            ),
        }
    };
}

const SQLITE: Statements = statements!("tower_sessions");
const POSTGRES: Statements = statements!("tower_sessions.session");

fn sql(pool: &Pool) -> &'static Statements {
    match pool {
        Pool::Sqlite(_) => &SQLITE,
        Pool::Postgres(_) => &POSTGRES,
    }
}

/// A session row as the store writes it: the record's id, the record encoded, when it
/// expires, and who it is signed in as (a hint for the load's join, not a credential).
#[derive(Debug, Clone, Copy)]
pub struct SessionRow<'a> {
    pub id: &'a Id,
    pub data: &'a [u8],
    pub expiry_date: OffsetDateTime,
    pub user_id: Option<i64>,
}

/// What only a new row gets: the handle the account page names it by (random, unrelated
/// to the id), the browser the login came from in coarse words, and when it began (Unix ms).
#[derive(Debug, Clone)]
pub struct NewRow {
    pub handle: String,
    pub agent: Option<String>,
    pub created_at: i64,
}

/// A loaded row: the encoded record, when it was last seen (Unix ms), and its user
/// joined in (none when the row names nobody, or a user who is gone).
#[derive(Debug)]
pub struct Loaded {
    pub data: Vec<u8>,
    pub seen_at: Option<i64>,
    pub user: Option<User>,
}

/// Inserts `row` with what a new row gets; 0 rows when a row has that id already.
pub async fn insert_new(pool: &Pool, row: SessionRow<'_>, new: &NewRow) -> Result<u64, sqlx::Error> {
    let (statement, id) = (sql(pool).insert_new, row.id.to_string());
    with_pool!(pool, p => {
        sqlx::query(statement)
            .bind(id)
            .bind(row.data)
            .bind(row.expiry_date)
            .bind(row.user_id)
            .bind(&new.handle)
            .bind(&new.agent)
            .bind(new.created_at)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
    })
}

/// Rewrites the row `row` names; 0 rows when it is gone (it is never brought back).
pub async fn save(pool: &Pool, row: SessionRow<'_>) -> Result<u64, sqlx::Error> {
    let (statement, id) = (sql(pool).save, row.id.to_string());
    with_pool!(pool, p => {
        sqlx::query(statement)
            .bind(id)
            .bind(row.data)
            .bind(row.expiry_date)
            .bind(row.user_id)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
    })
}

/// Session `id`, unless it expired before `now`, with its user joined in: one query.
pub async fn load_with_user(
    pool: &Pool,
    id: &Id,
    now: OffsetDateTime,
) -> Result<Option<Loaded>, sqlx::Error> {
    let (statement, id) = (sql(pool).load_with_user, id.to_string());
    // Decoded inside the match: the two databases' rows are different types.
    with_pool!(pool, p => {
        match sqlx::query(statement).bind(id).bind(now).fetch_optional(p).await? {
            Some(row) => Ok(Some(Loaded {
                data: row.try_get("data")?,
                seen_at: row.try_get("seen_at")?,
                user: User::from_row_opt(&row)?,
            })),
            None => Ok(None),
        }
    })
}

/// Sets session `id`'s `seen_at` to `now` (Unix ms) when the stored time is none or
/// `stale_by` or earlier: of concurrent loads that all find it stale, the first writes.
pub async fn mark_seen(pool: &Pool, id: &Id, now: i64, stale_by: i64) -> Result<(), sqlx::Error> {
    let (statement, id) = (sql(pool).mark_seen, id.to_string());
    with_pool!(pool, p => sqlx::query(statement).bind(id).bind(now).bind(stale_by).execute(p).await.map(drop))
}

/// Deletes session `id`.
pub async fn delete(pool: &Pool, id: &Id) -> Result<(), sqlx::Error> {
    let (statement, id) = (sql(pool).delete, id.to_string());
    with_pool!(pool, p => sqlx::query(statement).bind(id).execute(p).await.map(drop))
}

/// Deletes every session that expired before `now`.
pub async fn delete_expired(pool: &Pool, now: OffsetDateTime) -> Result<(), sqlx::Error> {
    let statement = sql(pool).delete_expired;
    with_pool!(pool, p => sqlx::query(statement).bind(now).execute(p).await.map(drop))
}

/// Ends every session of `user_id`, inside `tx` (a password that changes, an account
/// that goes). A row without a `user_id` is caught by the login layer's session-key
/// check instead.
pub async fn delete_for_user(tx: &mut Tx, user_id: i64) -> Result<u64, sqlx::Error> {
    let statement = match tx {
        Tx::Sqlite(_) => SQLITE.delete_for_user,
        Tx::Postgres(_) => POSTGRES.delete_for_user,
    };
    with_tx!(tx, c => sqlx::query(statement).bind(user_id).execute(c).await.map(|r| r.rows_affected()))
}

/// A session as the account page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub handle: String,
    /// The browser in coarse words; none for rows written without one.
    pub agent: Option<String>,
    /// Unix milliseconds.
    pub created_at: Option<i64>,
    pub seen_at: Option<i64>,
    /// Whether it is the session asking.
    pub current: bool,
}

/// What [`end_by_handle`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// None of the user's sessions has that handle.
    Nothing,
    /// Another of the user's sessions.
    Another,
    /// The session that asked.
    Current,
}

/// The live sessions of `user_id`, newest first; `current` is the session asking.
pub async fn list_for_user(
    pool: &Pool,
    user_id: i64,
    current: Option<Id>,
) -> Result<Vec<Listed>, sqlx::Error> {
    type Row = (String, Option<String>, Option<i64>, Option<i64>, i64);
    let (statement, current) = (sql(pool).list_for_user, current.map(|id| id.to_string()));
    let now = time::OffsetDateTime::now_utc();
    let rows: Vec<Row> = with_pool!(pool, p => {
        sqlx::query_as(statement).bind(user_id).bind(current).bind(now).fetch_all(p).await
    })?;
    Ok(rows
        .into_iter()
        .map(|(handle, agent, created_at, seen_at, current)| Listed {
            handle,
            agent,
            created_at,
            seen_at,
            current: current == 1,
        })
        .collect())
}

/// Ends the session of `user_id` named `handle`, if there is one; `current` is the
/// session asking.
pub async fn end_by_handle(
    pool: &Pool,
    user_id: i64,
    handle: &str,
    current: Option<Id>,
) -> Result<Ended, sqlx::Error> {
    let statement = sql(pool).end_by_handle;
    let ended: Option<String> = with_pool!(pool, p => {
        sqlx::query_scalar(statement).bind(user_id).bind(handle).fetch_optional(p).await
    })?;
    if ended.is_some() {
        accounts_changed();
    }
    Ok(match ended {
        None => Ended::Nothing,
        Some(id) if current.is_some_and(|current| current.to_string() == id) => Ended::Current,
        Some(_) => Ended::Another,
    })
}

/// Ends every session of `user_id` but `current`; how many ended.
pub async fn end_all_but(pool: &Pool, user_id: i64, current: &Id) -> Result<u64, sqlx::Error> {
    let statement = sql(pool).end_all_but;
    let ended = with_pool!(pool, p => {
        sqlx::query(statement).bind(user_id).bind(current.to_string()).execute(p).await.map(|r| r.rows_affected())
    })?;
    accounts_changed();
    Ok(ended)
}

/// Ends the sessions of `user_id` but the `cap` newest (by creation; expired ones too);
/// how many ended. Call after the new session's row is written. Of concurrent logins, the
/// last statement to start sees every new row (each was written before its own statement
/// began), and each ends only rows outside the newest `cap` it sees, which are outside the
/// newest `cap` of all: together they leave exactly the `cap` newest.
pub async fn keep_newest(pool: &Pool, user_id: i64, cap: i64) -> Result<u64, sqlx::Error> {
    let statement = sql(pool).keep_newest;
    let now = time::OffsetDateTime::now_utc();
    let ended = with_pool!(pool, p => {
        sqlx::query(statement).bind(user_id).bind(cap).bind(now).execute(p).await.map(|r| r.rows_affected())
    })?;
    if ended > 0 {
        accounts_changed();
    }
    Ok(ended)
}
