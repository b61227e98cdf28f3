//! What orchestrators and scrapers ask: liveness, readiness, Prometheus metrics.

use std::sync::Arc;

use axum::{
    extract::State,
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};

use crate::{
    db::{self, Pool},
    mail::Mailer,
};

/// `GET /healthz`: liveness. 200 while the process serves requests; no database call, so
/// an orchestrator does not restart healthy instances during a database outage.
pub(super) async fn healthz() -> impl IntoResponse {
    Json(serde_json::json!({"status": "ok"}))
}

/// What `/readyz` looks at besides the database.
#[derive(Clone)]
pub(super) struct Readiness {
    pub(super) pool: Pool,
    pub(super) mailer: Arc<Mailer>,
    pub(super) provider: Option<Arc<crate::idp::Provider>>,
}

/// `GET /readyz`: readiness. 200 when the database answers, every migration of this
/// binary is applied, the mail sender runs and the OpenID provider (if any) is discovered; 503 with the first reason otherwise (a load
/// balancer stops sending requests here until it is 200 again).
pub(super) async fn readyz(State(ready): State<Readiness>) -> Response {
    let reason = if !db::ping(&ready.pool).await {
        Some("database")
    } else if !db::migrations_applied(&ready.pool).await {
        Some("migrations")
    } else if !ready.mailer.is_running() {
        Some("mail_sender")
    } else if ready.provider.as_ref().is_some_and(|p| !p.is_discovered()) {
        Some("oidc")
    } else {
        None
    };
    match reason {
        None => Json(serde_json::json!({"status": "ready"})).into_response(),
        Some(reason) => {
            let body = Json(serde_json::json!({"status": "unavailable", "reason": reason}));
            let mut response = (StatusCode::SERVICE_UNAVAILABLE, body).into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(db::ACQUIRE_TIMEOUT.as_secs()));
            response
        }
    }
}

/// `GET /metrics` on the metrics listener: Prometheus text, with the pool read now.
pub(super) async fn metrics(State(pool): State<Pool>) -> impl IntoResponse {
    let (size, idle) = match &pool {
        Pool::Sqlite(p) => (p.size(), p.num_idle()),
        Pool::Postgres(p) => (p.size(), p.num_idle()),
    };
    crate::metrics::pool(size, idle);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], crate::metrics::render())
}
