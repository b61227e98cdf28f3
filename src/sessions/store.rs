//! Sessions: tower-sessions with a SQL store in the app's own database, so a session
//! survives a restart and logout deletes it for good. The cookie is HttpOnly,
//! SameSite=Lax, and Secure when the public URL is https.

use std::{
    cell::Cell,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use async_trait::async_trait;
use axum::{extract::Request, middleware::Next, response::Response};
use tower_sessions::{
    cookie::SameSite,
    session::{self, Id, Record},
    session_store::{self, ExpiredDeletion},
    Expiry, Session, SessionManagerLayer, SessionStore,
};

use crate::{
    auth::backend::AuthSession,
    config::{Config, SessionSettings},
    db::{with_pool, Pool},
    users::User,
};

pub const COOKIE_NAME: &str = "chatpass_session";
const LOGIN_AT_KEY: &str = "chatpass.login_at";
/// Who the session is signed in as, copied by the store into its `user_id` column.
const USER_ID_KEY: &str = "chatpass.user_id";
/// When the session was last seen active: rewritten (which saves the session and pushes
/// its idle expiry out) at most once per refresh interval, not on every request.
const SEEN_AT_KEY: &str = "chatpass.seen_at";
/// How often expired sessions are swept from the table.
const SWEEP_EVERY: Duration = Duration::from_secs(3600);

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

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

/// A session row and, when it names one, its user: (data, id, email, password hash).
type Row = (Vec<u8>, Option<i64>, Option<String>, Option<String>);

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
            save: concat!(
                "INSERT INTO ",
                $table,
                " (id, data, expiry_date, user_id) VALUES ($1, $2, $3, $4) ",
                "ON CONFLICT (id) DO UPDATE SET data = excluded.data, ",
                "expiry_date = excluded.expiry_date, user_id = excluded.user_id"
            ),
            load: concat!(
                "SELECT s.data, u.id, u.email, u.password_hash FROM ",
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
    fn new(pool: &Pool) -> Self {
        Store { pool: pool.clone() }
    }

    fn sql(&self) -> &'static Statements {
        match self.pool {
            Pool::Sqlite(_) => &SQLITE,
            Pool::Postgres(_) => &POSTGRES,
        }
    }

    /// Runs `create` or `save` for `record`; the number of rows written.
    async fn write(&self, statement: &'static str, record: &Record) -> session_store::Result<u64> {
        let data = encode(record)?;
        let (id, user_id) = (record.id.to_string(), user_id_of(record));
        with_pool!(&self.pool, p => {
            sqlx::query(statement)
                .bind(id)
                .bind(data)
                .bind(record.expiry_date)
                .bind(user_id)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        })
        .map_err(backend_error)
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
        // A fresh id is random; should it be taken all the same, draw another.
        while self.write(self.sql().create, record).await? == 0 {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.write(self.sql().save, record).await.map(drop)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let (statement, id, now) = (self.sql().load, id.to_string(), time::OffsetDateTime::now_utc());
        let row: Option<Row> = with_pool!(&self.pool, p => {
            sqlx::query_as(statement).bind(id).bind(now).fetch_optional(p).await
        })
        .map_err(backend_error)?;
        let Some((data, user_id, email, password_hash)) = row else {
            return Ok(None);
        };
        // A row we cannot read (written by something else, or damaged) is no session: the
        // visitor is signed out, not locked out by errors until the row expires.
        let Ok(record) = rmp_serde::from_slice::<Record>(&data) else {
            tracing::warn!("a session row could not be decoded; treating it as no session");
            return Ok(None);
        };
        if let (Some(id), Some(email), Some(password_hash)) = (user_id, email, password_hash) {
            keep_for_request(User { id, email, password_hash });
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

tokio::task_local! {
    /// The user the session load of the current request joined in, until the login
    /// layer takes it. One slot per request (see [`user_slot`]); never shared.
    static REQUEST_USER: Cell<Option<User>>;
}

fn keep_for_request(user: User) {
    // Outside a request (no slot) there is nobody to hand it to.
    let _ = REQUEST_USER.try_with(|slot| slot.set(Some(user)));
}

/// The user this request's session load found, if it is user `id`. Taken, not copied:
/// a second lookup in the same request goes to the database.
pub fn take_request_user(id: i64) -> Option<User> {
    REQUEST_USER.try_with(|slot| slot.take()).ok().flatten().filter(|u| u.id == id)
}

/// Middleware, outside the session and login layers: gives the request its user slot.
pub async fn user_slot(request: Request, next: Next) -> Response {
    REQUEST_USER.scope(Cell::new(None), next.run(request)).await
}

/// Creates the session table if needed and returns the layer.
pub fn layer(pool: &Pool, config: &Config) -> SessionManagerLayer<Store> {
    let store = Store::new(pool);
    // Sweeps expired sessions. A failed sweep (database down) is logged and retried at
    // the next tick; tower-sessions' own `continuously_delete_expired` would stop for good.
    tokio::spawn({
        let store = store.clone();
        async move {
            let mut every = tokio::time::interval(SWEEP_EVERY);
            loop {
                every.tick().await;
                if let Err(e) = store.delete_expired().await {
                    tracing::warn!(error = %e, "could not sweep expired sessions; will retry");
                }
            }
        }
    });
    let secure = config.public_origin.as_deref().is_some_and(|o| o.starts_with("https://"));
    let idle = time::Duration::seconds(i64::try_from(config.sessions.idle.as_secs()).unwrap_or(i64::MAX));
    SessionManagerLayer::new(store)
        .with_name(COOKIE_NAME)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(secure)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(idle))
}

/// Records who logged in (the store keeps it beside the session, to join the user in when
/// it loads) and when, for the absolute timeout.
pub async fn mark_login(session: &Session, user_id: i64) -> Result<(), session::Error> {
    session.insert(USER_ID_KEY, user_id).await?;
    session.insert(LOGIN_AT_KEY, unix_now()).await?;
    session.insert(SEEN_AT_KEY, unix_now()).await
}

/// Middleware for both timeouts. Absolute: ends a login older than `settings.absolute`,
/// however active. Idle: the store drops a session `settings.idle` after its last save;
/// an active session is saved again (extending that) once per refresh interval, not on
/// every request.
pub async fn enforce_timeouts(
    settings: SessionSettings,
    mut auth: AuthSession,
    request: Request,
    next: Next,
) -> Response {
    if auth.user.is_some() {
        let now = unix_now();
        let login_at: Option<u64> = auth.session.get(LOGIN_AT_KEY).await.ok().flatten();
        let expired = login_at.is_none_or(|at| now.saturating_sub(at) > settings.absolute.as_secs());
        if expired {
            tracing::info!("session reached its absolute timeout");
            let _ = auth.logout().await;
        } else {
            let refresh_every = (settings.idle.as_secs() / 2).min(3600);
            let seen_at: Option<u64> = auth.session.get(SEEN_AT_KEY).await.ok().flatten();
            if seen_at.is_none_or(|at| now.saturating_sub(at) >= refresh_every) {
                let _ = auth.session.insert(SEEN_AT_KEY, now).await;
            }
        }
    }
    next.run(request).await
}
