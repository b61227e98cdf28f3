//! Sign-in with the team's OpenID Connect provider on the web: `GET /auth/oidc/start?next=…`
//! sends the browser to the provider (authorization code, PKCE S256, `state`, `nonce`, all
//! kept in the session), and `GET /auth/oidc/callback` checks what comes back, exchanges the
//! code, verifies the ID token, finds or links the account (`idp::account_for`) and starts
//! a session. Plain axum handlers: both are browser redirects, not server functions.
//!
//! A refusal sends the browser to `/login?sso=<why>`, where the login page says it in words.

use axum::{routing::get, Extension, Router};

use crate::state::AppState;

mod web;

pub use web::{OidcRoutes, Refused, PENDING_KEY};

/// The two routes, for the router to merge inside the session layers.
pub fn routes(oidc: OidcRoutes) -> Router<AppState> {
    Router::new()
        .route("/auth/oidc/start", get(web::start))
        .route("/auth/oidc/callback", get(web::callback))
        .layer(Extension(oidc))
}
