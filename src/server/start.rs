//! Start-up, in the order that leaves no files behind after a bad setting: settings
//! parsed first (no IO), then the listen address bound, and only then the database
//! directory and file created; then serving until shutdown.

use std::{future::Future, net::SocketAddr, sync::Arc};

use axum::{routing::get, Router};
use leptos::prelude::LeptosOptions;
use tokio::net::TcpListener;

use super::{
    features::FeatureState,
    probes,
    router::router,
    sweeps::{spawn_limit_sweeper, spawn_record_sweeper},
};
use crate::{
    auth::limits::Limits,
    config::Config,
    db::{self, DbError, Pool},
    listener,
    mail::{sender, Seal},
    passwords::Hasher,
    state::AppState,
    token::{issuer::DEMO_WARNING, TokenIssuer},
};

/// `/metrics` connections open at once: a scraper or two.
const METRICS_CONNECTIONS: usize = 8;

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
    #[error("CHATPASS_TWILIO_API_URL: {0}")]
    Twilio(String),
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

/// A server that has bound its address and opened its database, ready to run.
pub struct Prepared {
    listener: TcpListener,
    /// Connections open at once at most (`listener::connection_cap`).
    connections: usize,
    router: Router,
    mail_sender: tokio::task::JoinHandle<()>,
    twilio_sender: tokio::task::JoinHandle<()>,
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
    if let Err(e) = crate::db::users::backfill_display_name_keys(&pool).await {
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
        sender::spawn(pool.clone(), &config.mail, origin.clone(), seal).map_err(StartError::Mail)?;
    if let Some(dir) = &mailer.file_outbox {
        let links = if config.is_https() { "" } else { ", and each mail's link is logged" };
        tracing::warn!(
            dir = %dir.display(),
            "no CHATPASS_SMTP_URL: mail is written to files in this directory{links}"
        );
    }
    let twilio_sender = crate::twilio::sender::spawn(
        pool.clone(),
        &config.twilio,
        &config.twilio_side,
        config.accounts.chat_identity,
    )
    .map_err(StartError::Twilio)?;
    let twilio_webhook = config.twilio_side.auth_token.clone().map(|auth_token| {
        Arc::new(crate::twilio::webhook::Webhook {
            pool: pool.clone(),
            auth_token,
            origin: origin.clone(),
            identity: config.accounts.chat_identity,
            verification: config.accounts.verification,
        })
    });
    let limits = Arc::new(Limits::new(&pool, config.limits));
    spawn_limit_sweeper(limits.clone());
    spawn_record_sweeper(pool.clone());
    let provider = config.login.oidc.clone().map(crate::idp::Provider::new);
    if let Some(provider) = &provider {
        tokio::spawn(provider.clone().discover_until_found());
    }
    let features = FeatureState {
        provider,
        login: Arc::new(config.login.clone()),
        limits,
        tokens: Arc::new(tokens),
        mailer: Arc::new(mailer),
        accounts: config.accounts,
        trusted_proxies: Arc::new(config.trusted_proxies.clone()),
        twilio_webhook,
    };
    let state = AppState::new(options, pool.clone(), hasher);
    Ok(Prepared {
        listener,
        connections,
        router: router(state, features, config),
        mail_sender,
        twilio_sender,
        metrics,
        addr,
        metrics_addr,
        pool,
    })
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
            let scrape = Router::new().route("/metrics", get(probes::metrics)).with_state(self.pool.clone());
            tokio::spawn(listener::serve(listener, scrape, METRICS_CONNECTIONS, std::future::pending()))
        });
        listener::serve(self.listener, self.router, self.connections, shutdown).await;
        if let Some(task) = metrics {
            task.abort();
        }
        // A mail claimed but not yet marked sent goes out again after its lease.
        self.mail_sender.abort();
        // Likewise a Twilio call: made again after its lease (a create finds 409, a delete 404).
        self.twilio_sender.abort();
        self.pool.close().await;
        Ok(())
    }
}
