//! The demo's conversation UI, in the browser, on the client the token lifecycle hands
//! it: the list with unread counts, the open conversation (marked read while the tab is
//! visible), its participants and "… is typing", history a page at a time merged by
//! message index, and sending.
//!
//! Events come from the client only (the SDK repeats every conversation's events on it),
//! so opening a conversation twice never adds a second handler.

use std::collections::HashMap;

use leptos::{prelude::*, task::spawn_local};
use wasm_bindgen::JsCast;

use super::{
    browser::{listen, show_failure, tab_visible, when_visible},
    names::Names,
    sdk::{self, Client, Conversation, Message, Paginator, Participant, User},
    state::{merge_lines, shown_name, ChatView, ConversationItem, Line},
    token_lifecycle::TokenLifecycle,
};

/// Twilio's "not found" (no conversation has that unique name).
const NOT_FOUND: i64 = 50350;

/// Messages per history page.
const PAGE_SIZE: u32 = 30;

/// `typing()` at most this often (milliseconds).
const TYPING_EVERY_MS: f64 = 3000.0;

/// What the UI keeps of the current client's conversations. `Copy`: every handler holds one.
#[derive(Clone, Copy)]
pub struct Conversations {
    view: ChatView,
    tokens: TokenLifecycle,
    names: Names,
    /// The current client's conversations, by sid.
    listed: StoredValue<HashMap<String, Conversation>, LocalStorage>,
    open: StoredValue<Option<Conversation>, LocalStorage>,
    /// The oldest history page shown, while it has a page before it.
    older: StoredValue<Option<Paginator>, LocalStorage>,
    last_typing_ms: StoredValue<f64, LocalStorage>,
    /// Bumped by every request to open a conversation (and by a new client): an open
    /// that is no longer the latest stops at its next step.
    opening: StoredValue<u32, LocalStorage>,
    /// The latest unread-count request per conversation sid: older answers are dropped.
    unread_asks: StoredValue<HashMap<String, u32>, LocalStorage>,
}

impl Conversations {
    pub fn new(view: ChatView, tokens: TokenLifecycle) -> Self {
        Conversations {
            view,
            tokens,
            names: Names::new(view, tokens),
            listed: StoredValue::new_local(HashMap::new()),
            open: StoredValue::new_local(None),
            older: StoredValue::new_local(None),
            last_typing_ms: StoredValue::new_local(f64::NEG_INFINITY),
            opening: StoredValue::new_local(0),
            unread_asks: StoredValue::new_local(HashMap::new()),
        }
    }

    /// The offline line, and the open conversation read again when the tab is visible.
    pub fn watch_the_browser(self) {
        let view = self.view;
        let Some(window) = web_sys::window() else { return };
        view.offline.set(!window.navigator().on_line());
        listen(&window, "offline", move || view.offline.set(true));
        listen(&window, "online", move || view.offline.set(false));
        when_visible(move || self.mark_read());
    }

    /// Forgets the old client's conversations, pages and lookups, and listens to the new one.
    pub fn attach(self, client: &Client) {
        let view = self.view;
        self.listed.update_value(HashMap::clear);
        self.open.set_value(None);
        self.older.set_value(None);
        self.names.forget_asked();
        self.unread_asks.update_value(HashMap::clear);
        self.last_typing_ms.set_value(f64::NEG_INFINITY);
        self.next_open();
        view.loading_older.set(false);
        self.tokens.on(client, "connectionError", move |e| show_failure(view, "Connecting to Twilio", &e));
        self.tokens.on(client, "initFailed", move |payload| {
            let error = sdk::field(&payload, "error");
            show_failure(view, "Starting the chat", if error.is_undefined() { &payload } else { &error });
        });
        self.tokens.on(client, "initialized", move |_| {
            spawn_local(self.names.show_own());
            spawn_local(self.load());
        });
        for event in ["conversationAdded", "conversationJoined"] {
            self.tokens.on(client, event, move |conversation| self.add(conversation.unchecked_into()));
        }
        self.tokens.on(client, "messageAdded", move |message| self.on_message(message.unchecked_into()));
        self.tokens.on(client, "participantJoined", move |p| self.on_participant(p.unchecked_into(), true));
        self.tokens.on(client, "participantLeft", move |p| self.on_participant(p.unchecked_into(), false));
        self.tokens.on(client, "typingStarted", move |p| self.on_typing(p.unchecked_into(), true));
        self.tokens.on(client, "typingEnded", move |p| self.on_typing(p.unchecked_into(), false));
        self.tokens.on(client, "userUpdated", move |data| {
            self.names.remember(sdk::field(&data, "user").unchecked_ref::<User>())
        });
    }

    fn next_open(self) -> u32 {
        self.opening.update_value(|o| *o = o.wrapping_add(1));
        self.opening.get_value()
    }

    fn still_opening(self, seq: u32) -> bool {
        self.opening.get_value() == seq
    }

    fn open_conversation(self) -> Option<Conversation> {
        self.open.get_value()
    }

    fn is_open(self, sid: &Option<String>) -> bool {
        sid.is_some() && self.open_conversation().and_then(|c| c.sid()) == *sid
    }

    async fn load(self) {
        let view = self.view;
        let Some(client) = self.tokens.client() else { return };
        match sdk::settle(client.get_subscribed_conversations()).await {
            Ok(paginator) => {
                for conversation in paginator.unchecked_into::<Paginator>().items_as::<Conversation>() {
                    self.add(conversation);
                }
            }
            Err(e) => show_failure(view, "Listing your conversations", &e),
        }
        // A new client after a reconnect: open again what was open, by its sid.
        if let Some((sid, _)) = view.open.get_untracked() {
            self.reopen(client, sid);
        }
    }

    fn add(self, conversation: Conversation) {
        let Some(sid) = conversation.sid() else { return };
        let known = self
            .listed
            .try_update_value(|c| c.insert(sid.clone(), conversation.clone()).is_some())
            .unwrap_or(true);
        self.view.conversations.update(|list| {
            if !list.iter().any(|item| item.sid == sid) {
                list.push(ConversationItem {
                    sid: sid.clone(),
                    name: conversation_name(&conversation),
                    unread: None,
                });
            }
        });
        if !known {
            spawn_local(self.count_unread(conversation));
        }
    }

    fn reopen(self, client: Client, sid: String) {
        let seq = self.next_open();
        spawn_local(async move {
            match sdk::settle(client.get_conversation_by_sid(&sid)).await {
                Ok(conversation) => self.show(conversation.unchecked_into(), seq).await,
                Err(e) if self.still_opening(seq) => {
                    show_failure(self.view, "Opening the conversation again", &e)
                }
                Err(_) => {}
            }
        });
    }

    /// Opens the conversation `name`, creating it when there is none, and joins it.
    pub fn join_or_create(self, name: String) {
        let (view, seq) = (self.view, self.next_open());
        spawn_local(async move {
            let Some(client) = self.tokens.client() else {
                view.error.set(Some(
                    "Not connected to Twilio yet. Wait for \u{201c}Connected.\u{201d}, then try again."
                        .into(),
                ));
                return;
            };
            let conversation = match sdk::settle(client.get_conversation_by_unique_name(&name)).await {
                Ok(c) => c.unchecked_into::<Conversation>(),
                Err(e) if sdk::reported(&e).code != Some(NOT_FOUND) => {
                    return show_failure(view, &format!("Opening \u{201c}{name}\u{201d}"), &e);
                }
                Err(_) => {
                    let options = sdk::object(&[("uniqueName", &name), ("friendlyName", &name)]);
                    match sdk::settle(client.create_conversation(&options)).await {
                        Ok(c) => c.unchecked_into::<Conversation>(),
                        Err(e) => return show_failure(view, &format!("Creating \u{201c}{name}\u{201d}"), &e),
                    }
                }
            };
            // Already a participant is fine.
            let _ = sdk::settle(conversation.join()).await;
            self.show(conversation, seq).await;
        });
    }

    /// Opens a conversation from the list.
    pub fn open_listed(self, sid: String) {
        let Some(conversation) = self.listed.with_value(|c| c.get(&sid).cloned()) else { return };
        spawn_local(self.show(conversation, self.next_open()));
    }

    /// Shows `conversation`, unless another open was asked for since `seq`.
    async fn show(self, conversation: Conversation, seq: u32) {
        let view = self.view;
        if !self.still_opening(seq) {
            return;
        }
        let sid = conversation.sid();
        self.add(conversation.clone());
        self.open.set_value(Some(conversation.clone()));
        self.older.set_value(None);
        view.open.set(Some((sid.clone().unwrap_or_default(), conversation_name(&conversation))));
        view.messages.set(Vec::new());
        view.participants.set(Vec::new());
        view.typing.set(Vec::new());
        view.has_older.set(false);
        view.loading_older.set(false);
        self.last_typing_ms.set_value(f64::NEG_INFINITY);

        match sdk::settle(conversation.get_participants()).await {
            Ok(list) if self.still_opening(seq) => {
                let identities: Vec<String> = js_sys::Array::from(&list)
                    .iter()
                    .filter_map(|p| p.unchecked_into::<Participant>().identity())
                    .collect();
                for identity in &identities {
                    self.names.learn(identity);
                }
                view.participants.update(|shown| {
                    for identity in identities {
                        if !shown.contains(&identity) {
                            shown.push(identity);
                        }
                    }
                });
            }
            Ok(_) => return,
            Err(e) => show_failure(view, "Listing the participants", &e),
        }
        match sdk::settle(conversation.get_messages(PAGE_SIZE)).await {
            Ok(page) if self.still_opening(seq) => self.show_page(page.unchecked_into()),
            Ok(_) => return,
            Err(e) => show_failure(view, "Loading the messages", &e),
        }
        self.mark_read();
    }

    /// Adds a history page's messages, and keeps the page when there are older ones.
    fn show_page(self, page: Paginator) {
        let lines: Vec<Line> = page.items_as::<Message>().iter().map(|m| self.line(m)).collect();
        self.view.messages.update(|shown| merge_lines(shown, lines));
        let older = page.has_prev_page();
        self.view.has_older.set(older);
        self.older.set_value(older.then_some(page));
    }

    /// Loads the page of messages before the oldest shown.
    pub fn load_older(self) {
        let view = self.view;
        if view.loading_older.get_untracked() {
            return;
        }
        let Some(page) = self.older.try_update_value(Option::take).flatten() else { return };
        let seq = self.opening.get_value();
        view.loading_older.set(true);
        spawn_local(async move {
            let result = sdk::settle(page.prev_page()).await;
            // Another conversation (or client) since: this page is not for it.
            if !self.still_opening(seq) {
                return;
            }
            match result {
                Ok(older) => self.show_page(older.unchecked_into()),
                Err(e) => {
                    self.older.set_value(Some(page));
                    show_failure(view, "Loading older messages", &e);
                }
            }
            view.loading_older.set(false);
        });
    }

    fn line(self, message: &Message) -> Line {
        let author = message.author().unwrap_or_default();
        self.names.learn(&author);
        let sent_at_ms = message
            .date_created()
            .dyn_into::<js_sys::Date>()
            .ok()
            .map(|d| d.get_time())
            .filter(|t| t.is_finite());
        Line { index: message.index() as i64, author, body: message.body().unwrap_or_default(), sent_at_ms }
    }

    fn on_message(self, message: Message) {
        let conversation = message.conversation();
        if self.is_open(&conversation.sid()) {
            let line = self.line(&message);
            self.view.typing.update(|t| t.retain(|identity| *identity != line.author));
            self.view.messages.update(|shown| merge_lines(shown, [line]));
            self.mark_read();
        } else {
            spawn_local(self.count_unread(conversation));
        }
    }

    /// Starts a new unread-count request for `sid`; earlier ones' answers are dropped.
    fn ask_unread(self, sid: &str) -> u32 {
        self.unread_asks.update_value(|asks| {
            let ask = asks.entry(sid.to_string()).or_insert(0);
            *ask = ask.wrapping_add(1);
        });
        self.unread_asks.with_value(|asks| asks[sid])
    }

    /// The open conversation in a visible tab is read; others are asked for their count.
    fn shown_as_read(self, sid: &str) -> bool {
        tab_visible() && self.is_open(&Some(sid.to_string()))
    }

    async fn count_unread(self, conversation: Conversation) {
        let Some(sid) = conversation.sid() else { return };
        if self.shown_as_read(&sid) {
            return;
        }
        let ask = self.ask_unread(&sid);
        let Ok(count) = sdk::settle(conversation.get_unread_messages_count()).await else { return };
        // `null`: no read horizon here yet (never opened): every message is unread.
        let count = match count.as_f64() {
            Some(n) => Some(n),
            None => sdk::settle(conversation.get_messages_count()).await.ok().and_then(|n| n.as_f64()),
        };
        let latest = self.unread_asks.with_value(|asks| asks.get(&sid) == Some(&ask));
        if latest && !self.shown_as_read(&sid) {
            self.set_unread(&sid, count.map(|n| n.max(0.0) as u32));
        }
    }

    fn set_unread(self, sid: &str, unread: Option<u32>) {
        self.view.conversations.update(|list| {
            if let Some(item) = list.iter_mut().find(|item| item.sid == sid) {
                item.unread = unread;
            }
        });
    }

    /// Moves the open conversation's read horizon to its end, while the tab is visible.
    fn mark_read(self) {
        let Some(conversation) = self.open_conversation() else { return };
        if !tab_visible() {
            spawn_local(self.count_unread(conversation));
            return;
        }
        let Some(sid) = conversation.sid() else { return };
        // Counts asked for before this are stale.
        self.ask_unread(&sid);
        self.set_unread(&sid, Some(0));
        spawn_local(async move {
            let _ = sdk::settle(conversation.set_all_messages_read()).await;
        });
    }

    fn on_participant(self, participant: Participant, joined: bool) {
        if !self.is_open(&participant.conversation().sid()) {
            return;
        }
        let Some(identity) = participant.identity() else { return };
        let view = self.view;
        if joined {
            self.names.learn(&identity);
            view.participants.update(|p| {
                if !p.contains(&identity) {
                    p.push(identity);
                }
            });
        } else {
            view.participants.update(|p| p.retain(|i| *i != identity));
            view.typing.update(|t| t.retain(|i| *i != identity));
        }
    }

    fn on_typing(self, participant: Participant, started: bool) {
        if !self.is_open(&participant.conversation().sid()) {
            return;
        }
        let Some(identity) = participant.identity() else { return };
        let view = self.view;
        if started {
            // Someone who has left (or was never here) is not shown typing.
            if view.participants.with_untracked(|p| p.contains(&identity)) {
                view.typing.update(|t| {
                    if !t.contains(&identity) {
                        t.push(identity);
                    }
                });
            }
        } else {
            view.typing.update(|t| t.retain(|i| *i != identity));
        }
    }

    /// The user is typing in the open conversation: tell the others, at most every 3 s.
    pub fn typing(self) {
        let Some(conversation) = self.open_conversation() else { return };
        let now = js_sys::Date::now();
        if now - self.last_typing_ms.get_value() < TYPING_EVERY_MS {
            return;
        }
        self.last_typing_ms.set_value(now);
        // Best effort: a lost typing notice is not worth an error line.
        spawn_local(async move {
            let _ = sdk::settle(conversation.typing()).await;
        });
    }

    /// Sends `text` to the open conversation.
    /// `draft` gets the text back when sending fails (unless something new was typed).
    pub fn send(self, text: String, draft: RwSignal<String>) {
        let view = self.view;
        let give_back = move |text: String| {
            draft.update(|d| {
                if d.is_empty() {
                    *d = text
                }
            })
        };
        spawn_local(async move {
            let Some(conversation) = self.open_conversation() else {
                view.error.set(Some(
                    "Open a conversation first: pick one from the list or join one by name.".into(),
                ));
                give_back(text);
                return;
            };
            if let Err(e) = sdk::settle(conversation.send_message(&text)).await {
                show_failure(view, "Sending the message", &e);
                give_back(text);
            }
        });
    }
}

/// A conversation's friendly name (else its unique name, else its sid), cleaned like a
/// user's name: it comes from Twilio, unchecked.
fn conversation_name(conversation: &Conversation) -> String {
    let name =
        conversation.friendly_name().filter(|n| !n.trim().is_empty()).or_else(|| conversation.unique_name());
    shown_name(name.as_deref(), &conversation.sid().unwrap_or_else(|| "(unnamed)".into()))
}
