//! The session store: tower-sessions records in the app's own database, so a session
//! survives a restart and logout deletes it for good.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use async_trait::async_trait;
use quick_cache::sync::Cache;
use tower_sessions::{
    session::{Id, Record},
    session_store::{self, ExpiredDeletion},
    SessionStore,
};

use super::{
    loaded_user,
    record::{AGENT_KEY, USER_ID_KEY},
};
use crate::{
    db::{
        self,
        sessions::{NewRow, SessionRow},
        users::User,
        Pool,
    },
    security::random_hex,
};

/// The session store in the app's own database (the table is `db::sessions`), with this
/// instance's reads kept in memory for at most [`CACHE_FOR`].
///
/// Rows are tower-sessions records (MessagePack, tower-sessions-sqlx-store's format, so
/// rows that store wrote load too) plus a `user_id` column: loading a
/// session joins the signed-in user in the same query, and the login layer's user lookup
/// for that request takes it from there instead of asking the database again. The column
/// is only a hint: axum-login still checks the user's id and password hash against what
/// the session holds, and without the hint it asks the database.
///
/// A new row also gets what the account page lists (`db::sessions::list_for_user`): a
/// random `handle`, the coarse `agent`, `created_at`; loading keeps `seen_at` to the minute.
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
        db::accounts_changed();
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

/// What only a new row gets (see `db::sessions::NewRow`): a random handle, the browser
/// from the record (see `mark_browser`), and now.
fn new_row_for(record: &Record) -> NewRow {
    let agent = record.data.get(AGENT_KEY).and_then(serde_json::Value::as_str).map(String::from);
    NewRow { handle: random_hex(16), agent, created_at: unix_ms() }
}

fn encode(record: &Record) -> session_store::Result<Vec<u8>> {
    rmp_serde::to_vec(record).map_err(|e| session_store::Error::Encode(e.to_string()))
}

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

    /// Writes `record` (naming `user_id`): a new row with `new`, else a save; the number
    /// of rows written. Every cached read goes once it is over, however it ended.
    async fn write(
        &self,
        record: &Record,
        user_id: Option<i64>,
        new: Option<&NewRow>,
    ) -> session_store::Result<Result<u64, sqlx::Error>> {
        let data = encode(record)?;
        let row = SessionRow { id: &record.id, data: &data, expiry_date: record.expiry_date, user_id };
        let _written = Written(&self.cache, Some(record.id));
        Ok(match new {
            Some(new) => db::sessions::insert_new(&self.pool, row, new).await,
            None => db::sessions::save(&self.pool, row).await,
        })
    }

    /// Notes that session `id`, last seen at `seen_at`, is seen now, when that was at least
    /// [`SEEN_EVERY_MS`] ago. Nothing cached is derived from it, so it is no account write;
    /// a failure only leaves the time older.
    async fn note_seen(&self, id: &Id, seen_at: Option<i64>) {
        let now = unix_ms();
        if seen_at.is_some_and(|at| now.saturating_sub(at) < SEEN_EVERY_MS) {
            return;
        }
        if let Err(e) = db::sessions::mark_seen(&self.pool, id, now, now - SEEN_EVERY_MS).await {
            tracing::debug!(error = %e, "could not note when a session was last seen");
        }
    }
}

#[async_trait]
impl SessionStore for Store {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let mut user_id = user_id_of(record);
        let new = new_row_for(record);
        loop {
            match self.write(record, user_id, Some(&new)).await? {
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
        let written = match self.write(record, user_id_of(record), None).await? {
            // Its user was deleted meanwhile (see `create`).
            Err(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => {
                self.write(record, None, None).await?
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
        let epoch = db::accounts_epoch();
        if let Some(cached) = self.cached(id, epoch, now) {
            if let Some(user) = &cached.user {
                loaded_user::keep_for_request(user.clone());
            }
            return Ok(Some(cached.record.clone()));
        }
        let key = *id;
        let loaded = db::sessions::load_with_user(&self.pool, id, now).await.map_err(backend_error)?;
        let Some(db::sessions::Loaded { data, seen_at, user }) = loaded else {
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
            loaded_user::keep_for_request(user);
        }
        Ok(Some(record))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        let _written = Written(&self.cache, None);
        db::sessions::delete(&self.pool, id).await.map_err(backend_error)
    }
}

#[async_trait]
impl ExpiredDeletion for Store {
    async fn delete_expired(&self) -> session_store::Result<()> {
        let _written = Written(&self.cache, None);
        db::sessions::delete_expired(&self.pool, time::OffsetDateTime::now_utc()).await.map_err(backend_error)
    }
}
