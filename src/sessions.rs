//! Sessions: tower-sessions with a SQL store in the app's own database, so a session
//! survives a restart and logout deletes it for good. The cookie is HttpOnly,
//! SameSite=Lax, and Secure when the public URL is https.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use axum::{extract::Request, middleware::Next, response::Response};
use tower_sessions::{
    cookie::SameSite,
    session::{self, Id, Record},
    session_store::{self, ExpiredDeletion},
    Expiry, Session, SessionManagerLayer, SessionStore,
};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

use crate::{
    auth::backend::AuthSession,
    config::{Config, SessionSettings},
    db::Pool,
};

pub const COOKIE_NAME: &str = "chatpass_session";
const LOGIN_AT_KEY: &str = "chatpass.login_at";
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
#[derive(Clone, Debug)]
pub enum Store {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

macro_rules! with_store {
    ($store:expr, $s:ident => $body:expr) => {
        match $store {
            Store::Sqlite($s) => $body,
            Store::Postgres($s) => $body,
        }
    };
}

impl Store {
    /// Creates the session table if needed.
    async fn new(pool: &Pool) -> Result<Self, sqlx::Error> {
        let store = match pool {
            Pool::Sqlite(p) => Store::Sqlite(SqliteStore::new(p.clone())),
            Pool::Postgres(p) => Store::Postgres(PostgresStore::new(p.clone())),
        };
        with_store!(&store, s => s.migrate().await)?;
        Ok(store)
    }
}

#[async_trait]
impl SessionStore for Store {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        with_store!(self, s => s.create(record).await)
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        with_store!(self, s => s.save(record).await)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        with_store!(self, s => s.load(id).await)
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        with_store!(self, s => s.delete(id).await)
    }
}

#[async_trait]
impl ExpiredDeletion for Store {
    async fn delete_expired(&self) -> session_store::Result<()> {
        with_store!(self, s => s.delete_expired().await)
    }
}

/// Creates the session table if needed and returns the layer.
pub async fn layer(pool: &Pool, config: &Config) -> Result<SessionManagerLayer<Store>, sqlx::Error> {
    let store = Store::new(pool).await?;
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
    Ok(SessionManagerLayer::new(store)
        .with_name(COOKIE_NAME)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(secure)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(idle)))
}

/// Records when this login began, for the absolute timeout.
pub async fn mark_login(session: &Session) -> Result<(), session::Error> {
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
