//! The HTTP server: router, layers, start-up order and graceful shutdown.
//!
//! Start-up order matters for "a bad setting leaves no files behind": settings are
//! parsed first (no IO), then the listen address is bound, and only then is the
//! database directory and file created.

use std::{future::Future, net::SocketAddr, time::Duration};

use axum::{
    extract::{FromRef, State},
    http::StatusCode,
    response::IntoResponse,
    routing::get,
    Json, Router,
};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tokio::net::TcpListener;
use tower_http::{
    compression::CompressionLayer,
    trace::{DefaultOnResponse, TraceLayer},
};
use tracing::Level;

use crate::{
    app::{shell, App},
    config::Config,
    db::{self, DbError, Pool},
};

/// Everything a handler or server function may need, cloned per request.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub pool: Pool,
}

/// Why the server could not start. Each is one line naming the setting at fault.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("LEPTOS_SITE_ADDR: cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Database(#[from] DbError),
    #[error("server stopped: {0}")]
    Serve(std::io::Error),
}

/// Leptos's own options, built from our settings rather than from cargo-leptos's
/// environment, so the binary runs the same with or without it.
pub fn leptos_options(config: &Config) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("chatpass")
        .site_root(config.site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(config.site_addr)
        .build()
}

/// The full router: pages, server functions, `/healthz`, static files, and layers.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let context_state = state.clone();
    Router::new()
        .route("/healthz", get(healthz))
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(context_state.clone()),
            {
                let options = state.leptos_options.clone();
                move || shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .with_state(state)
        .layer(CompressionLayer::new())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &axum::http::Request<_>| {
                    // The path only: query strings and headers (cookies) stay out of logs.
                    tracing::info_span!("request", method = %request.method(), path = %request.uri().path())
                })
                .on_request(())
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
}

/// `GET /healthz`: 200 when the database answers, 503 otherwise.
async fn healthz(State(pool): State<Pool>) -> impl IntoResponse {
    if db::ping(&pool).await {
        (StatusCode::OK, Json(serde_json::json!({"status": "ok"})))
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({"status": "unavailable", "reason": "database"})),
        )
    }
}

/// A server that has bound its address and opened its database, ready to run.
pub struct Prepared {
    listener: TcpListener,
    router: Router,
    pub addr: SocketAddr,
    pub pool: Pool,
}

/// Binds the address, then opens (creating if needed) and migrates the database.
pub async fn prepare(config: &Config) -> Result<Prepared, StartError> {
    let listener = TcpListener::bind(config.site_addr)
        .await
        .map_err(|source| StartError::Bind {
            addr: config.site_addr,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| StartError::Bind {
        addr: config.site_addr,
        source,
    })?;
    let pool = db::open(&config.database).await?;
    let mut options = leptos_options(config);
    options.site_addr = addr;
    let state = AppState {
        leptos_options: options,
        pool: pool.clone(),
    };
    Ok(Prepared {
        listener,
        router: router(state),
        addr,
        pool,
    })
}

impl Prepared {
    /// Serves until `shutdown` resolves, then lets requests in flight finish.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), StartError> {
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(StartError::Serve)?;
        self.pool.close().await;
        Ok(())
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received; finishing requests in flight");
}

/// How long graceful shutdown waits for requests in flight before giving up.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
