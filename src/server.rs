//! The HTTP server: router, layers, start-up order and graceful shutdown.
//!
//! Start-up order matters for "a bad setting leaves no files behind": settings are
//! parsed first (no IO), then the listen address is bound, and only then is the
//! database directory and file created.

use std::{future::Future, net::SocketAddr, pin::Pin, sync::Arc, time::Duration};

use axum::{
    body::{Body, HttpBody},
    extract::{Request, State},
    http::{header, HeaderValue, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::{
    compression::CompressionLayer,
    trace::{DefaultOnResponse, TraceLayer},
};
use tracing::Level;

use crate::{
    app::{shell, App},
    auth::limits::Limits,
    config::{AccountSettings, Config, SessionSettings, TrustedProxies},
    db::{self, DbError, Pool},
    error::AppError,
    listener,
    mail::{sender, Mailer, Seal},
    passwords::Hasher,
    security::{self, OwnOrigin},
    sessions::{self, AuthSession},
    state::AppState,
    token::{issuer::DEMO_WARNING, TokenIssuer},
};

/// Request bodies above this many bytes are refused with 413.
pub const BODY_LIMIT: usize = 16 * 1024;
/// A request's body must have arrived whole this long after its header, else 408.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// A request must be answered (its body read and the handler done) within this, else 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// `/metrics` connections open at once: a scraper or two.
const METRICS_CONNECTIONS: usize = 8;

/// What the server hands to server functions besides [`AppState`]: each feature's own
/// state, as a context value of its own type (see `state::feature_state`).
#[derive(Clone)]
struct FeatureState {
    limits: Arc<Limits>,
    tokens: Arc<TokenIssuer>,
    mailer: Arc<Mailer>,
    trusted_proxies: Arc<TrustedProxies>,
    accounts: AccountSettings,
}

impl FeatureState {
    fn provide(&self) {
        provide_context(self.limits.clone());
        provide_context(self.tokens.clone());
        provide_context(self.mailer.clone());
        provide_context(self.accounts);
        provide_context(self.trusted_proxies.clone());
    }
}

/// Why the server could not start. Each is one line naming the setting at fault.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("LEPTOS_SITE_ADDR: cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("CHATPASS_METRICS_ADDR: cannot listen on {addr}: {source}")]
    MetricsBind { addr: SocketAddr, source: std::io::Error },
    #[error(transparent)]
    Database(#[from] DbError),
    #[error("{0}")]
    Mail(String),
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
///
/// Each layer costs every request a clone of what is inside it, so the layers are few:
/// jobs that sit next to each other in the order share one (`edge`, `security::guard`,
/// `gate`), and each group is one `ServiceBuilder`, boxed once per route.
fn router(state: AppState, features: FeatureState, config: &Config) -> Router {
    let guard =
        Arc::new(security::Guard { own: OwnOrigin(config.public_origin.clone()), https: config.is_https() });
    let routes = route_list();
    let (pool, hasher) = (state.pool.clone(), state.hasher.clone());
    let readiness = Readiness { pool: pool.clone(), mailer: features.mailer.clone() };
    // Cloned for every server-function request: two increments.
    let features = Arc::new(features);
    let context = {
        let state = state.clone();
        move || {
            provide_context(state.clone());
            features.provide();
        }
    };
    let timeouts = config.sessions;
    let app = Router::new()
        .leptos_routes_with_context(&state, routes, context, {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .with_state(state)
        // Inside the session layers: sees the session's user.
        .layer(middleware::from_fn(move |request: Request, next: Next| gate(timeouts, request, next)));
    // The probes sit outside the session layers: they never load a session (a probe
    // that sends a cookie must not need the database to be alive).
    let probes =
        Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz).with_state(readiness));
    sessions::stack(app, &pool, &hasher, config).merge(probes).layer(
        ServiceBuilder::new()
            .layer(middleware::from_fn(edge))
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(|request: &axum::http::Request<_>| {
                        // The path only: query strings and headers (cookies) stay out of logs.
                        // The id is set (and made sane) by `edge`, outside.
                        let id = request
                            .headers()
                            .get(security::REQUEST_ID)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("");
                        tracing::info_span!(
                            "request",
                            request_id = %id,
                            method = %request.method(),
                            path = %request.uri().path()
                        )
                    })
                    .on_request(())
                    // One line per answer costs about a quarter of a token request's time
                    // (make bench): debug, so `RUST_LOG=info,tower_http=debug` brings it back.
                    // Server errors are still logged (on_failure), and /metrics counts all.
                    .on_response(DefaultOnResponse::new().level(Level::DEBUG)),
            )
            .layer(CompressionLayer::new())
            .layer(middleware::from_fn_with_state(guard, security::guard)),
    )
}

/// The app's routes, generated once per process. Generating them runs the app with
/// resource loading suppressed by a process-wide flag (leptos_server's
/// `SuppressResourceLoad`): a request of another server in the same process (the
/// integration tests run many) whose resource first polls meanwhile would wait forever
/// (leptos-rs/leptos#4773). Once, before any server of this process serves, avoids that.
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// `GET /healthz`: liveness. 200 while the process serves requests; no database call, so
/// an orchestrator does not restart healthy instances during a database outage.
async fn healthz() -> impl IntoResponse {
    Json(serde_json::json!({"status": "ok"}))
}

/// `GET /metrics` on the metrics listener: Prometheus text, with the pool read now.
async fn metrics(State(pool): State<Pool>) -> impl IntoResponse {
    let (size, idle) = match &pool {
        Pool::Sqlite(p) => (p.size(), p.num_idle()),
        Pool::Postgres(p) => (p.size(), p.num_idle()),
    };
    crate::metrics::pool(size, idle);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], crate::metrics::render())
}

/// Middleware, outermost: the request's id (`security::request_id`), on the request and
/// on its answer; the body read whole before anything else sees it ([`read_body`]); the
/// whole request's deadline ([`REQUEST_TIMEOUT`], 408); and the latency of every answer,
/// and its 429s and 503s, by route (a fixed set of names: a path nobody routes is `other`,
/// so scanners cannot grow the label set).
pub async fn edge(mut request: Request, next: Next) -> Response {
    let route = route_label(request.uri().path());
    let started = std::time::Instant::now();
    let id = security::request_id(&mut request);
    let answer = async {
        match read_body(request).await {
            Ok(request) => next.run(request).await,
            Err(refused) => refused,
        }
    };
    let mut response = tokio::time::timeout(REQUEST_TIMEOUT, answer)
        .await
        .unwrap_or_else(|_| closing(StatusCode::REQUEST_TIMEOUT, "request timed out"));
    response.headers_mut().insert(security::REQUEST_ID, id);
    crate::metrics::request(route, response.status().as_u16(), started.elapsed().as_secs_f64());
    response
}

/// The request with its body read whole: at most [`BODY_LIMIT`] bytes (413) within
/// [`BODY_TIMEOUT`] (408), so no handler waits on a client that sends slowly. A body known
/// to be empty is passed on as it is.
async fn read_body(request: Request) -> Result<Request, Response> {
    let (parts, mut body) = request.into_parts();
    let hint = body.size_hint();
    if hint.exact() == Some(0) {
        return Ok(Request::from_parts(parts, body));
    }
    let too_large = || closing(StatusCode::PAYLOAD_TOO_LARGE, "length limit exceeded");
    if hint.lower() > BODY_LIMIT as u64 {
        return Err(too_large());
    }
    let read = async {
        let mut bytes = Vec::new();
        while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
            let frame = frame.map_err(|_| closing(StatusCode::BAD_REQUEST, "request body unreadable"))?;
            if let Ok(data) = frame.into_data() {
                if bytes.len() + data.len() > BODY_LIMIT {
                    return Err(too_large());
                }
                bytes.extend_from_slice(&data);
            }
        }
        Ok(bytes)
    };
    match tokio::time::timeout(BODY_TIMEOUT, read).await {
        Ok(Ok(bytes)) => Ok(Request::from_parts(parts, Body::from(bytes))),
        Ok(Err(refused)) => Err(refused),
        Err(_) => Err(closing(StatusCode::REQUEST_TIMEOUT, "request body timed out")),
    }
}

/// An answer after which the connection is closed: what is left of its request is unread.
fn closing(status: StatusCode, why: &'static str) -> Response {
    (status, [(header::CONNECTION, "close")], why).into_response()
}

fn route_label(path: &str) -> &'static str {
    const ROUTES: &[&str] = &[
        "/",
        "/login",
        "/signup",
        "/chat",
        "/verify",
        "/forgot",
        "/reset",
        "/account",
        "/healthz",
        "/readyz",
        "/api/signup",
        "/api/verify_email",
        "/api/resend_verification",
        "/api/login",
        "/api/logout",
        "/api/current_user",
        "/api/chat_token",
        "/api/forgot_password",
        "/api/reset_password",
        "/api/change_password",
        "/api/delete_account",
        "/api/set_display_name",
        "/api/account",
        "/api/sessions",
        "/api/end_session",
        "/api/end_other_sessions",
    ];
    if let Some(known) = ROUTES.iter().find(|r| **r == path) {
        return known;
    }
    if path.starts_with("/pkg/") || path.starts_with("/vendor/") || path == "/favicon.ico" {
        return "static";
    }
    "other"
}

/// What `/readyz` looks at besides the database.
#[derive(Clone)]
struct Readiness {
    pool: Pool,
    mailer: Arc<Mailer>,
}

/// `GET /readyz`: readiness. 200 when the database answers, every migration of this
/// binary is applied and the mail sender runs; 503 with the first reason otherwise (a load
/// balancer stops sending requests here until it is 200 again).
async fn readyz(State(ready): State<Readiness>) -> Response {
    let reason = if !db::ping(&ready.pool).await {
        Some("database")
    } else if !db::migrations_applied(&ready.pool).await {
        Some("migrations")
    } else if !ready.mailer.is_running() {
        Some("mail_sender")
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

/// Middleware, inside the session layers, in front of every page and server function:
/// the session's timeouts (`sessions::layers::enforce_timeouts`), then `/chat` and
/// `/account` only for signed-in users (anyone else is sent to log in first, before any
/// HTML, and comes back after), then the real status of a server function's error
/// ([`server_fn_error_status`]).
async fn gate(timeouts: SessionSettings, mut request: Request, next: Next) -> Response {
    sessions::layers::enforce_timeouts(timeouts, &mut request).await;
    let signed_in = request.extensions().get::<AuthSession>().is_some_and(|auth| auth.user.is_some());
    let to_login = match request.uri().path() {
        "/chat" if !signed_in => Some("/login?next=/chat"),
        "/account" if !signed_in => Some("/login?next=/account"),
        _ => None,
    };
    let path = request.uri().path().to_owned();
    let response = match to_login {
        Some(location) => (StatusCode::FOUND, [(header::LOCATION, location)]).into_response(),
        None => next.run(request).await,
    };
    let mut response = server_fn_error_status(response).await;
    keep_out_of_caches(&path, signed_in, &mut response);
    response
}

/// A page that shows an account (every page of a signed-in visitor) or carries a mailed link
/// (`/verify`, `/reset`) is never stored by a browser or a shared cache; logout also asks the
/// browser to drop what it cached for this site, so the back button shows nothing of the account.
fn keep_out_of_caches(path: &str, signed_in: bool, response: &mut Response) {
    let is_page = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"));
    if (is_page && signed_in) || matches!(path, "/verify" | "/reset") {
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if path == "/api/logout" {
        response.headers_mut().insert("clear-site-data", HeaderValue::from_static("\"cache\""));
    }
}

/// Server functions answer every error with 500 and the error as JSON. This reads our
/// [`AppError`] back and sets its real status (400, 401, 409, 429 and 503 with
/// `Retry-After`). A plain form post's error is a redirect back to the form with the error
/// in the URL: that redirect keeps its status and is signed (`security::form_error`).
///
/// Why after the fact and not `ResponseOptions::set_status` in each server function: in
/// Leptos 0.8 the errors that arise before our code runs (a body that does not decode
/// into the function's arguments, a missing field: 400) are answered by server_fn
/// itself with 500, so no code of ours could set their status; and `ResponseOptions`'s
/// status also overrides the 302 that sends a no-JavaScript form post back to its page.
async fn server_fn_error_status(response: Response) -> Response {
    // server_fn marks its error answers, the redirect too, with its endpoint's path: no
    // success answer carries it, so no success redirect is ever signed.
    let Some(endpoint) =
        response.headers().get(server_fn::error::SERVER_FN_ERROR_HEADER).and_then(|v| v.to_str().ok())
    else {
        return response;
    };
    let endpoint = endpoint.to_owned();
    let redirected = response.status() == StatusCode::FOUND;
    if !redirected && response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "error body unreadable").into_response();
    };
    if redirected {
        let signed = parts
            .headers
            .get(header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .and_then(|l| {
                let now = std::time::UNIX_EPOCH.elapsed().map_or(0, |d| d.as_secs());
                security::form_error::sign_error_redirect(l, &endpoint, &bytes, now)
            })
            .and_then(|l| HeaderValue::from_str(&l).ok());
        if let Some(location) = signed {
            parts.headers.insert(header::LOCATION, location);
        }
        return Response::from_parts(parts, Body::from(bytes));
    }
    if let Ok(error) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry_after = match error {
            AppError::RateLimited { retry_after } => Some(retry_after),
            AppError::Unavailable => Some(db::ACQUIRE_TIMEOUT.as_secs()),
            _ => None,
        };
        if let Some(seconds) = retry_after {
            parts.headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// A server that has bound its address and opened its database, ready to run.
pub struct Prepared {
    listener: TcpListener,
    /// Connections open at once at most (`listener::connection_cap`).
    connections: usize,
    router: Router,
    mail_sender: tokio::task::JoinHandle<()>,
    /// The `/metrics` listener (`CHATPASS_METRICS_ADDR`), when configured.
    metrics: Option<TcpListener>,
    pub addr: SocketAddr,
    /// Where `/metrics` is served, when it is.
    pub metrics_addr: Option<SocketAddr>,
    pub pool: Pool,
}

/// Binds the address, then opens (creating if needed) and migrates the database.
pub async fn prepare(config: &Config) -> Result<Prepared, StartError> {
    let listener = TcpListener::bind(config.site_addr)
        .await
        .map_err(|source| StartError::Bind { addr: config.site_addr, source })?;
    let addr = listener.local_addr().map_err(|source| StartError::Bind { addr: config.site_addr, source })?;
    let metrics = match config.metrics_addr {
        Some(at) => {
            let bound =
                TcpListener::bind(at).await.map_err(|source| StartError::MetricsBind { addr: at, source })?;
            // Installs the recorder: from here on every counter of this process counts.
            crate::metrics::handle();
            if !at.ip().is_loopback() {
                tracing::warn!(addr = %at, "/metrics listens beyond loopback: keep it off the internet");
            }
            Some(bound)
        }
        None => None,
    };
    let metrics_addr = metrics.as_ref().and_then(|l| l.local_addr().ok());
    let descriptors = listener::raise_descriptor_limit();
    let reserved = db::DESCRIPTORS + if metrics.is_some() { METRICS_CONNECTIONS as u64 } else { 0 };
    let connections = listener::connection_cap(descriptors, reserved);
    tracing::info!(connections, descriptors, "serving at most {connections} connections at once");
    if connections < 1024 {
        tracing::warn!(
            connections,
            descriptors,
            "the open-file limit leaves room for few connections: raise it (LimitNOFILE=, ulimit -n)"
        );
    }
    let pool = db::open(&config.database).await?;
    if let Err(e) = db::users::backfill_display_name_keys(&pool).await {
        tracing::warn!(error = %e, "could not fill the display names' look-alike keys; the next start tries again");
    }
    let mut options = leptos_options(config);
    options.site_addr = addr;
    // Leave one core for everything else while passwords hash.
    let hash_slots = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).max(2) - 1;
    let hasher = tokio::task::spawn_blocking(move || Hasher::new(hash_slots))
        .await
        .map_err(|e| StartError::Serve(std::io::Error::other(e)))?;
    let tokens = TokenIssuer::from_settings(&config.twilio);
    if tokens.is_demo() {
        tracing::warn!("{DEMO_WARNING}");
    }
    let origin = config.public_origin.clone().unwrap_or_else(|| listen_origin(addr));
    let seal = Seal::from_settings(&config.twilio, config.is_https());
    let (mailer, mail_sender) =
        sender::spawn(pool.clone(), &config.mail, origin, seal).map_err(StartError::Mail)?;
    if let Some(dir) = &mailer.file_outbox {
        let links = if config.is_https() { "" } else { ", and each mail's link is logged" };
        tracing::warn!(
            dir = %dir.display(),
            "no CHATPASS_SMTP_URL: mail is written to files in this directory{links}"
        );
    }
    let limits = Arc::new(Limits::new(&pool, config.limits));
    spawn_limit_sweeper(limits.clone());
    spawn_record_sweeper(pool.clone());
    let features = FeatureState {
        limits,
        tokens: Arc::new(tokens),
        mailer: Arc::new(mailer),
        accounts: config.accounts,
        trusted_proxies: Arc::new(config.trusted_proxies.clone()),
    };
    let state = AppState::new(options, pool.clone(), hasher);
    Ok(Prepared {
        listener,
        connections,
        router: router(state, features, config),
        mail_sender,
        metrics,
        addr,
        metrics_addr,
        pool,
    })
}

/// Sweeps the limits every minute: the in-memory limiters forget clients whose budget has
/// refilled (their memory stays bounded, see `auth::limits::MAX_REMEMBERED`), and every
/// fifth time the database forgets failed-login counts whose window has ended (each
/// instance does; the delete is idempotent). A failed sweep is logged and tried again.
fn spawn_limit_sweeper(limits: Arc<Limits>) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(crate::auth::limits::SWEEP_EVERY);
        for round in 0u64.. {
            every.tick().await;
            limits.sweep_memory();
            if round % 5 == 0 {
                if let Err(e) = limits.logins.sweep(sender::unix_now()).await {
                    tracing::warn!(error = %e, "could not sweep failed-login counts; will retry");
                }
            }
        }
    });
}

/// How often finished records are swept: they are kept for days, so an hour late is nothing.
const RECORD_SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Sweeps finished records every hour (and at start): used and expired links
/// (`email_tokens::sweep`) and sent or given-up mail (`outbox::sweep`), each kept a week.
/// Every instance does; the deletes are idempotent. A failed sweep is logged and tried again.
fn spawn_record_sweeper(pool: Pool) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(RECORD_SWEEP_EVERY);
        loop {
            every.tick().await;
            let now = sender::unix_now();
            if let Err(e) = db::email_tokens::sweep(&pool, now).await {
                tracing::warn!(error = %e, "could not sweep used and expired links; will retry");
            }
            if let Err(e) = db::outbox::sweep(&pool, now).await {
                tracing::warn!(error = %e, "could not sweep delivered mail; will retry");
            }
        }
    });
}

/// The origin of links in mails when `CHATPASS_PUBLIC_URL` is not set: the address the
/// server listens on, with a wildcard address replaced by loopback. Never the request's
/// `Host` header, which the sender of a request chooses.
fn listen_origin(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => std::net::IpAddr::from([127, 0, 0, 1]),
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => {
            std::net::IpAddr::V6(std::net::Ipv6Addr::LOCALHOST)
        }
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}

impl Prepared {
    /// Serves until `shutdown` resolves, then lets requests in flight finish.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), StartError> {
        let metrics = self.metrics.map(|listener| {
            let scrape = Router::new().route("/metrics", get(metrics)).with_state(self.pool.clone());
            tokio::spawn(listener::serve(listener, scrape, METRICS_CONNECTIONS, std::future::pending()))
        });
        listener::serve(self.listener, self.router, self.connections, shutdown).await;
        if let Some(task) = metrics {
            task.abort();
        }
        // A mail claimed but not yet marked sent goes out again after its lease.
        self.mail_sender.abort();
        self.pool.close().await;
        Ok(())
    }
}

/// Resolves on SIGINT or SIGTERM. The handlers are installed when this is called (not
/// when first polled), so call it before announcing the server is up: a signal that
/// arrives after the announcement is always a graceful shutdown.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    use tokio::signal::unix::{signal, SignalKind};
    let mut terminate = signal(SignalKind::terminate()).ok();
    let mut interrupt = signal(SignalKind::interrupt()).ok();
    async move {
        let term = async {
            match terminate.as_mut() {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        let int = async {
            match interrupt.as_mut() {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            () = term => {},
            () = int => {},
        }
        tracing::info!("shutdown signal received; finishing requests in flight");
    }
}
