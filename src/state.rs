//! The request state a server function fetches, written once: the shared [`AppState`],
//! a feature's own state (the token issuer, the rate limits), the auth session and the
//! client's address. Everything here sits below the features that use it.

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
};

use axum::extract::{ConnectInfo, FromRef};
use leptos::prelude::{use_context, with_context, LeptosOptions};

use crate::{
    config::{proxies::limit_key, TrustedProxies},
    db::Pool,
    error::AppError,
    passwords::Hasher,
    sessions::AuthSession,
};

/// What every part of the server shares: handed to axum as router state and to server
/// functions as Leptos context. A feature's own state (the token issuer, the rate
/// limits) is provided beside it as a context value of its own type, so this module
/// needs to know nothing about features. Cloned for every request, so it is one `Arc`:
/// a clone is one atomic increment, not a copy of the Leptos options and the hasher.
#[derive(Clone, Debug)]
pub struct AppState(Arc<AppStateFields>);

/// What [`AppState`] holds (reached through it: `state.pool`).
#[derive(Debug)]
pub struct AppStateFields {
    pub leptos_options: LeptosOptions,
    pub pool: Pool,
    pub hasher: Hasher,
}

impl AppState {
    pub fn new(leptos_options: LeptosOptions, pool: Pool, hasher: Hasher) -> Self {
        AppState(Arc::new(AppStateFields { leptos_options, pool, hasher }))
    }
}

impl std::ops::Deref for AppState {
    type Target = AppStateFields;

    fn deref(&self) -> &AppStateFields {
        &self.0
    }
}

/// leptos_axum renders pages with the options it takes from the router state.
impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// The shared state, inside a server function.
pub fn app_state() -> Result<AppState, AppError> {
    feature_state::<AppState>()
}

/// A value the server provided as context for this request (a feature's state).
/// Missing context is a wiring mistake of ours: 500, never a panic.
pub fn feature_state<T: Clone + 'static>() -> Result<T, AppError> {
    use_context::<T>().ok_or_else(|| {
        tracing::error!(state = std::any::type_name::<T>(), "missing server-function context");
        AppError::Internal
    })
}

/// The axum-login session of this request (who is signed in, log in and out): the login
/// layer's own, read where it left it (what `leptos_axum::extract` would read, without
/// first copying every header and extension of the request).
pub async fn auth_session() -> Result<AuthSession, AppError> {
    with_context::<axum::http::request::Parts, _>(|parts| parts.extensions.get::<AuthSession>().cloned())
        .flatten()
        .ok_or_else(|| {
            tracing::error!("no auth session: the login layer is missing");
            AppError::Internal
        })
}

/// The client this request is counted as by the per-address limits: the TCP peer, or,
/// from a trusted proxy, the address its `X-Forwarded-For` names (see
/// `config::proxies`); IPv6 as its /64.
pub async fn client_ip() -> IpAddr {
    let peer = match leptos_axum::extract::<ConnectInfo<SocketAddr>>().await {
        Ok(ConnectInfo(addr)) => addr.ip(),
        Err(_) => IpAddr::from([0, 0, 0, 0]),
    };
    let trusted = use_context::<std::sync::Arc<TrustedProxies>>().unwrap_or_default();
    if trusted.is_empty() {
        return limit_key(peer);
    }
    let parts = use_context::<axum::http::request::Parts>();
    let forwarded = parts
        .iter()
        .flat_map(|p| p.headers.get_all("x-forwarded-for"))
        .map(|v| v.as_bytes())
        .collect::<Vec<_>>();
    trusted.client(peer, forwarded)
}
