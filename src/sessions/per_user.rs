//! One user's sessions, for the account page: listed by their handles (never their ids),
//! ended one at a time or all but the one asking, and kept to a cap, oldest first.
//!
//! Every statement is scoped by `user_id`: a handle of another user's session names
//! nothing here. An ending is an account write: this instance's cached reads go at once
//! (`db::accounts_changed`), other instances' within `CACHE_FOR`.

use tower_sessions::session::Id;

use crate::db::{self, with_pool, Pool};

/// A session as the account page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub handle: String,
    /// The browser in coarse words; none for sessions from before it was recorded.
    pub agent: Option<String>,
    /// Unix milliseconds.
    pub created_at: Option<i64>,
    pub seen_at: Option<i64>,
    /// Whether it is the session asking.
    pub current: bool,
}

/// What [`end`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// None of the user's sessions has that handle.
    Nothing,
    /// Another of the user's sessions.
    Another,
    /// The session that asked.
    Current,
}

/// The statements, one set per database; they differ only in the table's name.
struct Statements {
    list: &'static str,
    end: &'static str,
    end_others: &'static str,
    keep_newest: &'static str,
}

macro_rules! statements {
    ($table:literal) => {
        Statements {
            list: concat!(
                "SELECT handle, agent, created_at, seen_at, ",
                "CAST(CASE WHEN id = $2 THEN 1 ELSE 0 END AS BIGINT) AS is_current FROM ",
                $table,
                " WHERE user_id = $1 AND handle IS NOT NULL AND expiry_date > $3 ",
                "ORDER BY COALESCE(created_at, 0) DESC, handle"
            ),
            end: concat!("DELETE FROM ", $table, " WHERE user_id = $1 AND handle = $2 RETURNING id"),
            end_others: concat!("DELETE FROM ", $table, " WHERE user_id = $1 AND id <> $2"),
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

/// The live sessions of `user_id`, newest first; `current` is the session asking.
pub async fn list(pool: &Pool, user_id: i64, current: Option<Id>) -> Result<Vec<Listed>, sqlx::Error> {
    type Row = (String, Option<String>, Option<i64>, Option<i64>, i64);
    let (statement, current) = (sql(pool).list, current.map(|id| id.to_string()));
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
pub async fn end(pool: &Pool, user_id: i64, handle: &str, current: Option<Id>) -> Result<Ended, sqlx::Error> {
    let statement = sql(pool).end;
    let ended: Option<String> = with_pool!(pool, p => {
        sqlx::query_scalar(statement).bind(user_id).bind(handle).fetch_optional(p).await
    })?;
    if ended.is_some() {
        db::accounts_changed();
    }
    Ok(match ended {
        None => Ended::Nothing,
        Some(id) if current.is_some_and(|current| current.to_string() == id) => Ended::Current,
        Some(_) => Ended::Another,
    })
}

/// Ends every session of `user_id` but `current`; how many ended.
pub async fn end_others(pool: &Pool, user_id: i64, current: &Id) -> Result<u64, sqlx::Error> {
    let statement = sql(pool).end_others;
    let ended = with_pool!(pool, p => {
        sqlx::query(statement).bind(user_id).bind(current.to_string()).execute(p).await.map(|r| r.rows_affected())
    })?;
    db::accounts_changed();
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
        db::accounts_changed();
    }
    Ok(ended)
}
