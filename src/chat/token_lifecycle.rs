//! The chat token's life in the browser: a token from `chat_token`, Twilio's SDK loaded,
//! `new Client(token)`, the token kept fresh while the page is open, and each new client
//! handed to what the page does with it (the demo's conversations).
//! - `tokenAboutToExpire`: fetch a new token, `updateToken` it.
//! - `tokenExpired`: fetch a new token, shut the old client down, create a new one.
//! - Back `online`, or the tab visible again (after a laptop slept): a token expired by
//!   this browser's clock, or a client not connected, means a new token and client; a
//!   connected client whose token is about to expire gets `updateToken`.
//! - A 401 (the session is gone): the client shut down, the signed-out state, no retry.
//! - Any other failure to get a token: retry after 1 s, 2 s, 4 s … at most 60 s.

use leptos::{prelude::*, task::spawn_local};
use wasm_bindgen::JsValue;

use super::browser::{now_secs, on_wake, show_failure, token_parts};
use super::sdk::{self, Client};
use super::state::{token_retry_words, ChatView, Connection, Wake};
use crate::{error::AppError, token::chat_token, token::IssuedChatToken, token::PlatformField};

/// The current client and the two jobs that replace it. `Copy`: every handler holds one.
#[derive(Clone, Copy)]
pub struct TokenLifecycle {
    view: ChatView,
    client: StoredValue<Option<Client>, LocalStorage>,
    /// Bumped for every new client and at sign-out.
    generation: StoredValue<u32, LocalStorage>,
    recovering: StoredValue<bool, LocalStorage>,
    /// A new token and client are on their way: a second reason to replace is dropped.
    replacing: StoredValue<bool, LocalStorage>,
    on_new_client: StoredValue<UnsyncCallback<Client>, LocalStorage>,
}

impl TokenLifecycle {
    pub fn new(view: ChatView) -> Self {
        let (client, generation) = (StoredValue::new_local(None), StoredValue::new_local(0));
        let (recovering, replacing) = (StoredValue::new_local(false), StoredValue::new_local(false));
        let on_new_client = StoredValue::new_local(UnsyncCallback::new(|_| {}));
        TokenLifecycle { view, client, generation, recovering, replacing, on_new_client }
    }

    /// The current client; `None` before the first and after sign-out.
    pub fn client(self) -> Option<Client> {
        self.client.get_value()
    }

    /// Calls `handler` on `event` while `client` is the current one (it is made in
    /// `create_client`): a replaced or signed-out client's late events change nothing.
    pub fn on(self, client: &Client, event: &str, handler: impl FnMut(JsValue) + 'static) {
        let generation = self.generation.get_value();
        client.on_while(event, move || self.generation.get_value() == generation, handler);
    }

    /// Starts the lifecycle; `on_new_client` gets each client as it is made.
    pub fn start(self, on_new_client: impl Fn(Client) + 'static) {
        let view = self.view;
        self.on_new_client.set_value(UnsyncCallback::new(on_new_client));
        on_wake(move || spawn_local(self.recover()));
        spawn_local(async move {
            if let Err(e) = sdk::load().await {
                view.connection.set(Connection::SdkMissing);
                return show_failure(view, "Loading Twilio's chat library", &e);
            }
            if let Some(token) = self.fetch_token().await {
                self.create_client(&token);
            }
        });
    }

    /// Gets a token, retrying with backoff; `None` once the user is signed out.
    async fn fetch_token(self) -> Option<IssuedChatToken> {
        let (view, mut delay_ms) = (self.view, 1000);
        while !view.signed_out.get_untracked() {
            match chat_token(PlatformField::default()).await {
                Ok(token) => {
                    view.token_expires_local.set(now_secs() + u64::from(token.ttl));
                    view.token_json.set(token_parts(&token.token));
                    view.token.set(Some(token.clone()));
                    view.error.set(None);
                    return Some(token);
                }
                Err(AppError::NotSignedIn) => self.sign_out(),
                Err(AppError::EmailUnverified) => {
                    view.unverified.set(true);
                    view.connection.set(Connection::Unverified);
                    return None;
                }
                Err(e) => {
                    view.error.set(Some(token_retry_words(&e.to_string(), delay_ms / 1000)));
                    sdk::sleep(delay_ms).await;
                    delay_ms = (delay_ms * 2).min(60_000);
                }
            }
        }
        None
    }

    /// The session is gone: stop the SDK and say so.
    fn sign_out(self) {
        self.view.signed_out.set(true);
        self.view.connection.set(Connection::SignedOut);
        // The old client's last events ("disconnected") must not overwrite this.
        self.generation.update_value(|g| *g += 1);
        sdk::shut_down(self.client.try_update_value(Option::take).flatten());
    }

    fn create_client(self, token: &IssuedChatToken) {
        let view = self.view;
        let client = match sdk::start_client(&token.token, token.region.as_deref()) {
            Ok(client) => client,
            Err(e) => {
                view.connection.set(Connection::Failed);
                return show_failure(view, "Starting Twilio's chat client", &e);
            }
        };
        self.generation.update_value(|g| *g += 1);
        self.client.set_value(Some(client.clone()));
        self.on_new_client.get_value().run(client.clone());
        view.connection.set(Connection::Connecting);
        self.on(&client, "connectionStateChanged", move |state| {
            let state = Connection::from_sdk(&state.as_string().unwrap_or_default());
            if state == Connection::Connected {
                view.error.set(None);
            }
            view.connection.set(state);
        });
        self.on(&client, "tokenAboutToExpire", move |_| spawn_local(self.refresh_token()));
        self.on(&client, "tokenExpired", move |_| spawn_local(self.replace_client()));
    }

    async fn refresh_token(self) {
        let Some(token) = self.fetch_token().await else { return };
        let Some(client) = self.client() else { return };
        match sdk::settle(client.update_token(&token.token)).await {
            Ok(_) => self.view.refreshes.update(|n| *n += 1),
            Err(e) => show_failure(self.view, "Handing Twilio the new token", &e),
        }
    }

    /// A new token and a new client. `tokenExpired` and a wake-up can both ask at once;
    /// one replacement runs, the other asks are dropped.
    async fn replace_client(self) {
        if self.replacing.try_update_value(|r| std::mem::replace(r, true)) != Some(false) {
            return;
        }
        if let Some(token) = self.fetch_token().await {
            sdk::shut_down(self.client.try_update_value(Option::take).flatten());
            self.view.refreshes.update(|n| *n += 1);
            self.create_client(&token);
        }
        self.replacing.set_value(false);
    }

    /// After the network returns or the tab wakes: a new token and client when needed.
    async fn recover(self) {
        let view = self.view;
        let started = self.client.with_value(Option::is_some) && view.token.with_untracked(Option::is_some);
        if !started
            || view.signed_out.get_untracked()
            || self.recovering.try_update_value(|r| std::mem::replace(r, true)) != Some(false)
        {
            return;
        }
        let left = view.token_expires_local.get_untracked().saturating_sub(now_secs());
        match Wake::after(left, view.connection.get_untracked()) {
            Wake::Nothing => {}
            Wake::RenewToken => self.refresh_token().await,
            Wake::NewClient => {
                view.connection.set(Connection::Recovering);
                self.replace_client().await;
            }
        }
        self.recovering.set_value(false);
    }
}
