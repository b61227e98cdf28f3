//! Friendly names on the chat page: the signed-in user's set to the account's display
//! name, everyone else's asked of the SDK once per identity. Browser only.

use std::collections::HashSet;

use leptos::{prelude::*, task::spawn_local};
use wasm_bindgen::JsCast;

use super::{browser::show_failure, sdk, sdk::User, state::ChatView, token_lifecycle::TokenLifecycle};

#[derive(Clone, Copy)]
pub struct Names {
    view: ChatView,
    tokens: TokenLifecycle,
    /// Identities whose user was asked for (once each).
    asked: StoredValue<HashSet<String>, LocalStorage>,
}

impl Names {
    pub fn new(view: ChatView, tokens: TokenLifecycle) -> Self {
        Names { view, tokens, asked: StoredValue::new_local(HashSet::new()) }
    }

    /// A new client asks again.
    pub fn forget_asked(self) {
        self.asked.update_value(HashSet::clear);
    }

    /// Sets the signed-in user's friendly name to the account's display name.
    pub async fn show_own(self) {
        let view = self.view;
        let Some(client) = self.tokens.client() else { return };
        let Some(token) = view.token.get_untracked() else { return };
        let user = client.user();
        let identity = user.identity().unwrap_or(token.identity.clone());
        if user.friendly_name().as_deref() == Some(token.display_name.as_str()) {
            self.remember(&user);
            return;
        }
        match sdk::settle(user.update_friendly_name(&token.display_name)).await {
            Ok(_) => {
                self.asked.update_value(|a| {
                    a.insert(identity.clone());
                });
                view.names.update(|n| {
                    n.insert(identity, token.display_name.clone());
                });
            }
            Err(e) => show_failure(view, "Showing your display name to others", &e),
        }
    }

    /// Shows `user`'s friendly name (the SDK has it: `userUpdated`, or an answer).
    pub fn remember(self, user: &User) {
        let Some(identity) = user.identity() else { return };
        self.asked.update_value(|a| {
            a.insert(identity.clone());
        });
        let name = user.friendly_name().unwrap_or_default();
        self.view.names.update(|n| {
            n.insert(identity, name);
        });
    }

    /// Asks the SDK for `identity`'s friendly name, once per identity.
    pub fn learn(self, identity: &str) {
        if identity.is_empty()
            || !self.asked.try_update_value(|a| a.insert(identity.to_string())).unwrap_or(false)
        {
            return;
        }
        let Some(client) = self.tokens.client() else { return };
        let identity = identity.to_string();
        spawn_local(async move {
            match sdk::settle(client.get_user(&identity)).await {
                Ok(user) => self.remember(user.unchecked_ref()),
                // The identity is shown instead; not worth an error line.
                Err(_) => self.view.names.update(|n| {
                    n.insert(identity, String::new());
                }),
            }
        });
    }
}
