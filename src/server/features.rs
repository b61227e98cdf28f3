//! Each feature's own state, handed to server functions beside [`AppState`](crate::state::AppState).

use std::sync::Arc;

use leptos::prelude::provide_context;

use crate::{
    auth::limits::Limits,
    config::{AccountSettings, LoginSettings, TrustedProxies},
    idp::Provider,
    mail::Mailer,
    token::TokenIssuer,
};

/// What the server hands to server functions besides [`AppState`]: each feature's own
/// state, as a context value of its own type (see `state::feature_state`).
#[derive(Clone)]
pub(super) struct FeatureState {
    pub(super) limits: Arc<Limits>,
    pub(super) tokens: Arc<TokenIssuer>,
    pub(super) mailer: Arc<Mailer>,
    pub(super) trusted_proxies: Arc<TrustedProxies>,
    pub(super) accounts: AccountSettings,
    /// The team's OpenID provider, when `CHATPASS_OIDC_ISSUER` names one.
    pub(super) provider: Option<Arc<Provider>>,
    pub(super) login: Arc<LoginSettings>,
    /// Twilio's webhook, when `TWILIO_AUTH_TOKEN` is set (a route, not a server function's state).
    pub(super) twilio_webhook: Option<Arc<crate::twilio::webhook::Webhook>>,
}

impl FeatureState {
    pub(super) fn provide(&self) {
        provide_context(self.limits.clone());
        provide_context(self.tokens.clone());
        provide_context(self.mailer.clone());
        provide_context(self.accounts);
        provide_context(self.trusted_proxies.clone());
        provide_context(self.login.clone());
        if let Some(provider) = &self.provider {
            provide_context(provider.clone());
        }
    }
}
