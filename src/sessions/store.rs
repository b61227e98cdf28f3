//! The session store: tower-sessions records in the app's own database, so a session
//! survives a restart and logout deletes it for good.

use async_trait::async_trait;
use sqlx::Row as _;
use tower_sessions::{
    session::{Id, Record},
    session_store::{self, ExpiredDeletion},
    SessionStore,
};

use super::{record::USER_ID_KEY, slot};
use crate::{
    db::{with_pool, Pool},
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
#[derive(Clone, Debug)]
pub struct Store {
    pool: Pool,
}

fn backend_error(e: sqlx::Error) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

/// The user a record was signed in as, from the key [`mark_login`] writes.
fn user_id_of(record: &Record) -> Option<i64> {
    record.data.get(USER_ID_KEY).and_then(serde_json::Value::as_i64)
}

fn encode(record: &Record) -> session_store::Result<Vec<u8>> {
    rmp_serde::to_vec(record).map_err(|e| session_store::Error::Encode(e.to_string()))
}

/// The store's statements, one set per database; they differ only in the table's name.
struct Statements {
    create: &'static str,
    save: &'static str,
    load: &'static str,
    delete: &'static str,
    delete_expired: &'static str,
}

macro_rules! statements {
    ($table:literal) => {
        Statements {
            create: concat!(
                "INSERT INTO ",
                $table,
                " (id, data, expiry_date, user_id) VALUES ($1, $2, $3, $4) ",
                "ON CONFLICT (id) DO NOTHING"
            ),
            // Only `create` inserts. A save of a row that is gone (logged out, or its
            // user deleted, while this request was in flight) writes nothing: an upsert
            // would bring the ended session back.
            save: concat!("UPDATE ", $table, " SET data = $2, expiry_date = $3, user_id = $4 WHERE id = $1"),
            load: concat!(
                "SELECT s.data, ",
                user_columns!("u."),
                " FROM ",
                $table,
                " s ",
                "LEFT JOIN users u ON u.id = s.user_id WHERE s.id = $1 AND s.expiry_date > $2"
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
        Store { pool: pool.clone() }
    }

    fn sql(&self) -> &'static Statements {
        match self.pool {
            Pool::Sqlite(_) => &SQLITE,
            Pool::Postgres(_) => &POSTGRES,
        }
    }

    /// Runs `create` or `save` for `record`, naming `user_id` in the row; the number of
    /// rows written.
    async fn write(
        &self,
        statement: &'static str,
        record: &Record,
        user_id: Option<i64>,
    ) -> session_store::Result<Result<u64, sqlx::Error>> {
        let data = encode(record)?;
        let id = record.id.to_string();
        Ok(with_pool!(&self.pool, p => {
            sqlx::query(statement)
                .bind(id)
                .bind(data)
                .bind(record.expiry_date)
                .bind(user_id)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        }))
    }

    /// Runs `delete` or `delete_expired` with `key` as its parameter.
    async fn remove<T>(&self, statement: &'static str, key: T) -> session_store::Result<()>
    where
        T: for<'q> sqlx::Encode<'q, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
        T: for<'q> sqlx::Encode<'q, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
        T: Send,
    {
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
        loop {
            match self.write(self.sql().create, record, user_id).await? {
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
        let written = match self.write(self.sql().save, record, user_id_of(record)).await? {
            // Its user was deleted meanwhile (see `create`).
            Err(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => {
                self.write(self.sql().save, record, None).await?
            }
            other => other,
        };
        if written.map_err(backend_error)? == 0 {
            tracing::debug!("a session that ended while a request of it was in flight stays ended");
        }
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let (statement, id, now) = (self.sql().load, id.to_string(), time::OffsetDateTime::now_utc());
        // Decoded inside the match: the two databases' rows are different types.
        let row: Option<(Vec<u8>, Option<User>)> = with_pool!(&self.pool, p => {
            match sqlx::query(statement).bind(id).bind(now).fetch_optional(p).await {
                Ok(Some(row)) => row
                    .try_get::<Vec<u8>, _>("data")
                    .and_then(|data| Ok(Some((data, User::from_row_opt(&row)?)))),
                Ok(None) => Ok(None),
                Err(e) => Err(e),
            }
        })
        .map_err(backend_error)?;
        let Some((data, user)) = row else {
            return Ok(None);
        };
        // A row we cannot read (written by something else, or damaged) is no session: the
        // visitor is signed out, not locked out by errors until the row expires.
        let Ok(record) = rmp_serde::from_slice::<Record>(&data) else {
            tracing::warn!("a session row could not be decoded; treating it as no session");
            return Ok(None);
        };
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
