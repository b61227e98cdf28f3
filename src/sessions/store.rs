//! The session store: tower-sessions records in the app's own database, so a session
//! survives a restart and logout deletes it for good.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use async_trait::async_trait;
use quick_cache::sync::Cache;
use sqlx::Row as _;
use tower_sessions::{
    session::{Id, Record},
    session_store::{self, ExpiredDeletion},
    SessionStore,
};

use super::{
    record::{AGENT_KEY, USER_ID_KEY},
    slot,
};
use crate::{
    db::{with_pool, Pool},
    security::random_hex,
    users::{user_columns, User},
};

/// The session store in the app's own database: a table `tower_sessions` in SQLite,
/// `tower_sessions.session` in PostgreSQL (where every instance sees every session).
///
/// Rows are tower-sessions records (MessagePack, the format tower-sessions-sqlx-store
/// wrote, so sessions from earlier versions still load) plus a `user_id` column: loading a
/// session joins the signed-in user in the same query, and the login layer's user lookup
/// for that request takes it from there instead of asking the database again. The column
/// is only a hint: axum-login still checks the user's id and password hash against what
/// the session holds, and without the hint it queries as before.
///
/// A new row also gets what the account page lists (`sessions::per_user`): a random
/// `handle`, the coarse `agent`, `created_at`; loading keeps `seen_at` to the minute.
#[derive(Clone)]
pub struct Store {
    pool: Pool,
    cache: Arc<Cache<Id, Arc<Cached>>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("cached", &self.cache.len()).finish_non_exhaustive()
    }
}

/// How long a session read stays in this instance's memory. A logout, a password change
/// or any other account write made *here* drops it at once (see `db::accounts_epoch`);
/// one made on *another* instance is seen here at most this long after it committed.
pub const CACHE_FOR: Duration = Duration::from_secs(1);

/// Sessions kept in memory at most (the least used go first).
const CACHE_ENTRIES: usize = 100_000;

/// A row's `seen_at` is rewritten only when it is older than this: the account page
/// shows when a browser was last active, to the minute, without a write per request.
pub const SEEN_EVERY_MS: i64 = 60_000;

/// A session row and its joined-in user, as read, and when that stops being good.
struct Cached {
    record: Record,
    user: Option<User>,
    epoch: u64,
    until: Instant,
}

/// Marks a write to the sessions table, when it is over (dropped), however it ended: the
/// session's cached read goes, and every cached read is stale (`db::accounts_changed`).
struct Written<'a>(&'a Cache<Id, Arc<Cached>>, Option<Id>);

impl Drop for Written<'_> {
    fn drop(&mut self) {
        crate::db::accounts_changed();
        if let Some(id) = self.1 {
            self.0.remove(&id);
        }
    }
}

fn backend_error(e: sqlx::Error) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

/// The user a record was signed in as, from the key [`mark_login`] writes.
fn user_id_of(record: &Record) -> Option<i64> {
    record.data.get(USER_ID_KEY).and_then(serde_json::Value::as_i64)
}

/// Now, in Unix milliseconds: creation and last-seen times of rows.
pub fn unix_ms() -> i64 {
    i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// What only a new row gets: the handle the account page names it by (random, unrelated
/// to the id), the browser the login came from (see `mark_browser`), and when it began.
struct NewRow {
    handle: String,
    agent: Option<String>,
    at: i64,
}

impl NewRow {
    fn for_record(record: &Record) -> Self {
        let agent = record.data.get(AGENT_KEY).and_then(serde_json::Value::as_str).map(String::from);
        NewRow { handle: random_hex(16), agent, at: unix_ms() }
    }
}

fn encode(record: &Record) -> session_store::Result<Vec<u8>> {
    rmp_serde::to_vec(record).map_err(|e| session_store::Error::Encode(e.to_string()))
}

/// The store's statements, one set per database; they differ only in the table's name.
struct Statements {
    create: &'static str,
    save: &'static str,
    load: &'static str,
    seen: &'static str,
    delete: &'static str,
    delete_expired: &'static str,
}

macro_rules! statements {
    ($table:literal) => {
        Statements {
            create: concat!(
                "INSERT INTO ",
                $table,
                " (id, data, expiry_date, user_id, handle, agent, created_at, seen_at) ",
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT (id) DO NOTHING"
            ),
            // Only `create` inserts. A save of a row that is gone (logged out, or its
            // user deleted, while this request was in flight) writes nothing: an upsert
            // would bring the ended session back.
            save: concat!("UPDATE ", $table, " SET data = $2, expiry_date = $3, user_id = $4 WHERE id = $1"),
            load: concat!(
                "SELECT s.data, s.seen_at, ",
                user_columns!("u."),
                " FROM ",
                $table,
                " s ",
                "LEFT JOIN users u ON u.id = s.user_id WHERE s.id = $1 AND s.expiry_date > $2"
            ),
            seen: concat!(
                "UPDATE ",
                $table,
                " SET seen_at = $2 WHERE id = $1 AND (seen_at IS NULL OR seen_at <= $3)"
            ),
            delete: concat!("DELETE FROM ", $table, " WHERE id = $1"),
            delete_expired: concat!("DELETE FROM ", $table, " WHERE expiry_date < $1"),
        }
    };
}

const SQLITE: Statements = statements!("tower_sessions");
const POSTGRES: Statements = statements!("tower_sessions.session");

impl Store {
    pub fn new(pool: &Pool) -> Self {
        Store { pool: pool.clone(), cache: Arc::new(Cache::new(CACHE_ENTRIES)) }
    }

    /// The cached read of session `id`, when nothing was written to accounts on this
    /// instance since, it is younger than [`CACHE_FOR`], and the session has not expired.
    fn cached(&self, id: &Id, epoch: u64, now: time::OffsetDateTime) -> Option<Arc<Cached>> {
        self.cache
            .get(id)
            .filter(|c| c.epoch == epoch && Instant::now() < c.until && c.record.expiry_date > now)
    }

    fn sql(&self) -> &'static Statements {
        match self.pool {
            Pool::Sqlite(_) => &SQLITE,
            Pool::Postgres(_) => &POSTGRES,
        }
    }

    /// Runs `create` (with `new`) or `save` (without) for `record`, naming `user_id` in
    /// the row; the number of rows written.
    async fn write(
        &self,
        statement: &'static str,
        record: &Record,
        user_id: Option<i64>,
        new: Option<&NewRow>,
    ) -> session_store::Result<Result<u64, sqlx::Error>> {
        let data = encode(record)?;
        let id = record.id.to_string();
        let _written = Written(&self.cache, Some(record.id));
        Ok(with_pool!(&self.pool, p => {
            let query = sqlx::query(statement).bind(id).bind(data).bind(record.expiry_date).bind(user_id);
            let query = match new {
                Some(new) => query.bind(&new.handle).bind(&new.agent).bind(new.at),
                None => query,
            };
            query.execute(p).await.map(|r| r.rows_affected())
        }))
    }

    /// Notes that session `id`, last seen at `seen_at`, is seen now, when that was at least
    /// [`SEEN_EVERY_MS`] ago. Nothing cached is derived from it, so it is no account write;
    /// a failure only leaves the time older.
    async fn note_seen(&self, id: &Id, seen_at: Option<i64>) {
        let now = unix_ms();
        if seen_at.is_some_and(|at| now.saturating_sub(at) < SEEN_EVERY_MS) {
            return;
        }
        let (statement, id) = (self.sql().seen, id.to_string());
        let noted = with_pool!(&self.pool, p => {
            sqlx::query(statement).bind(id).bind(now).bind(now - SEEN_EVERY_MS).execute(p).await.map(drop)
        });
        if let Err(e) = noted {
            tracing::debug!(error = %e, "could not note when a session was last seen");
        }
    }

    /// Runs `delete` or `delete_expired` with `key` as its parameter.
    async fn remove<T>(&self, statement: &'static str, key: T) -> session_store::Result<()>
    where
        T: for<'q> sqlx::Encode<'q, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
        T: for<'q> sqlx::Encode<'q, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
        T: Send,
    {
        let _written = Written(&self.cache, None);
        with_pool!(&self.pool, p => {
            sqlx::query(statement).bind(key).execute(p).await.map(drop)
        })
        .map_err(backend_error)
    }
}

#[async_trait]
impl SessionStore for Store {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let mut user_id = user_id_of(record);
        let new = NewRow::for_record(record);
        loop {
            match self.write(self.sql().create, record, user_id, Some(&new)).await? {
                Ok(0) => record.id = Id::default(), // a random id that is taken: draw another
                Ok(_) => return Ok(()),
                // The user was deleted while this login was in flight: the row names nobody,
                // and the login layer finds no user for it (signed out), instead of a 500.
                Err(sqlx::Error::Database(e)) if e.is_foreign_key_violation() && user_id.is_some() => {
                    tracing::info!("a session was created for a user deleted meanwhile; it names nobody");
                    user_id = None;
                }
                Err(e) => return Err(backend_error(e)),
            }
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let written = match self.write(self.sql().save, record, user_id_of(record), None).await? {
            // Its user was deleted meanwhile (see `create`).
            Err(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => {
                self.write(self.sql().save, record, None, None).await?
            }
            other => other,
        };
        if written.map_err(backend_error)? == 0 {
            tracing::debug!("a session that ended while a request of it was in flight stays ended");
        }
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let now = time::OffsetDateTime::now_utc();
        // Read before the query: a write that commits while it runs changes the epoch,
        // so what the query saw is not kept past it.
        let epoch = crate::db::accounts_epoch();
        if let Some(cached) = self.cached(id, epoch, now) {
            if let Some(user) = &cached.user {
                slot::keep_for_request(user.clone());
            }
            return Ok(Some(cached.record.clone()));
        }
        let key = *id;
        let (statement, id) = (self.sql().load, id.to_string());
        // Decoded inside the match: the two databases' rows are different types.
        let row: Option<(Vec<u8>, Option<i64>, Option<User>)> = with_pool!(&self.pool, p => {
            match sqlx::query(statement).bind(id).bind(now).fetch_optional(p).await {
                Ok(Some(row)) => row.try_get::<Vec<u8>, _>("data").and_then(|data| {
                    Ok(Some((data, row.try_get("seen_at")?, User::from_row_opt(&row)?)))
                }),
                Ok(None) => Ok(None),
                Err(e) => Err(e),
            }
        })
        .map_err(backend_error)?;
        let Some((data, seen_at, user)) = row else {
            self.cache.remove(&key);
            return Ok(None);
        };
        // A row we cannot read (written by something else, or damaged) is no session: the
        // visitor is signed out, not locked out by errors until the row expires.
        let Ok(record) = rmp_serde::from_slice::<Record>(&data) else {
            tracing::warn!("a session row could not be decoded; treating it as no session");
            return Ok(None);
        };
        // Only on a read from the database (the cache makes that at most once a second per
        // session): to the minute needs no more.
        if user_id_of(&record).is_some() {
            self.note_seen(&key, seen_at).await;
        }
        self.cache.insert(
            key,
            Arc::new(Cached {
                record: record.clone(),
                user: user.clone(),
                epoch,
                until: Instant::now() + CACHE_FOR,
            }),
        );
        if let Some(user) = user {
            slot::keep_for_request(user);
        }
        Ok(Some(record))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.remove(self.sql().delete, id.to_string()).await
    }
}

#[async_trait]
impl ExpiredDeletion for Store {
    async fn delete_expired(&self) -> session_store::Result<()> {
        self.remove(self.sql().delete_expired, time::OffsetDateTime::now_utc()).await
    }
}

/// Ends every session of `user_id`, inside `tx` (a password that changes, an account
/// that goes). Sessions from before the `user_id` column are caught by the login
/// layer's password-hash check instead.
pub async fn delete_for_user(tx: &mut crate::db::Tx, user_id: i64) -> Result<u64, sqlx::Error> {
    use crate::db::Tx;
    let done = match tx {
        Tx::Sqlite(t) => sqlx::query("DELETE FROM tower_sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut **t)
            .await?
            .rows_affected(),
        Tx::Postgres(t) => sqlx::query("DELETE FROM tower_sessions.session WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut **t)
            .await?
            .rows_affected(),
    };
    Ok(done)
}
