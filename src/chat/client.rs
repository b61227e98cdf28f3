//! The chat page's controller, in the browser: fetches a token from `/api/chat_token`,
//! starts the Conversations SDK with it, keeps the token fresh, and drives the chat.
//!
//! Token and connection:
//! - `tokenAboutToExpire`: fetch a new token, `updateToken` it.
//! - `tokenExpired`: fetch a new token, shut the old client down, create a new one.
//! - Back `online`, or the tab visible again (after a laptop slept): when the token has
//!   expired, or the client is not connected, start over with a new token and a new
//!   client; a connected client whose token is about to expire gets `updateToken`.
//! - A 401 from the token endpoint (the session is gone): shut the client down and show
//!   the signed-out state. Nothing is retried then.
//! - Any other failure to get a token: retry with backoff (1 s, 2 s, 4 s … at most 60 s).
//!
//! Chat: the signed-in user's friendly name is set to the account's display name; other
//! users' names are asked once per identity and cached; unread counts per conversation;
//! the open conversation is marked read while the tab is visible; participants and
//! "… is typing"; history a page at a time, merged by message index.
//!
//! Events come from the client only (the SDK repeats every conversation's events on
//! it), so opening a conversation twice never adds a second handler. A replaced client's
//! events are ignored: each handler carries its client's generation.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};

use js_sys::Function;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::{prelude::*, JsCast};

use super::{
    sdk::{self, Client, Conversation, Message, Paginator, Participant, User},
    state::{merge_lines, shown_name, ChatView, Connection, ConversationItem, Line},
};
use crate::{
    error::AppError,
    token::{chat_token, IssuedChatToken},
};

/// Where chatpass serves Twilio's SDK bundle.
pub const SDK_PATH: &str = "/vendor/twilio-conversations.min.js";

/// Twilio's "not found" (no conversation has that unique name).
const NOT_FOUND: i64 = 50350;

/// Messages per history page.
const PAGE_SIZE: u32 = 30;

/// `typing()` at most this often (milliseconds).
const TYPING_EVERY_MS: f64 = 3000.0;

/// A token this close to expiry (seconds) is renewed when the page wakes up.
const RENEW_WITHIN_SECS: u64 = 120;

thread_local! {
    static CLIENT: RefCell<Option<Client>> = const { RefCell::new(None) };
    /// Bumped for every new client; a handler of an older one does nothing.
    static GENERATION: Cell<u32> = const { Cell::new(0) };
    static CONVERSATIONS: RefCell<HashMap<String, Conversation>> = RefCell::new(HashMap::new());
    static OPEN: RefCell<Option<Conversation>> = const { RefCell::new(None) };
    /// The oldest history page shown, while it has a page before it.
    static OLDER: RefCell<Option<Paginator>> = const { RefCell::new(None) };
    /// Identities whose user was asked for (once each).
    static ASKED: RefCell<HashSet<String>> = RefCell::new(HashSet::new());
    static LAST_TYPING_MS: Cell<f64> = const { Cell::new(f64::NEG_INFINITY) };
    static RECOVERING: Cell<bool> = const { Cell::new(false) };
    /// A new token and client are on their way: a second reason to replace is dropped.
    static REPLACING: Cell<bool> = const { Cell::new(false) };
    /// Bumped by every request to open a conversation (and by a new client): an open
    /// that is no longer the latest stops at its next step.
    static OPENING: Cell<u32> = const { Cell::new(0) };
    /// The latest unread-count request per conversation sid: older answers are dropped.
    static UNREAD_ASKS: RefCell<HashMap<String, u32>> = RefCell::new(HashMap::new());
}

fn next_open() -> u32 {
    OPENING.with(|o| {
        o.set(o.get().wrapping_add(1));
        o.get()
    })
}

fn still_opening(seq: u32) -> bool {
    OPENING.with(Cell::get) == seq
}

/// Shuts a client down. The SDK's promise rejects for a client that never started
/// (a refused token): that is not worth an error, and must not go unhandled.
fn shut_down(client: Client) {
    spawn_local(async move {
        let _ = sdk::settle(client.shutdown()).await;
    });
}

fn current_client() -> Option<Client> {
    CLIENT.with(|c| c.borrow().clone())
}

fn open_conversation() -> Option<Conversation> {
    OPEN.with(|o| o.borrow().clone())
}

fn now_secs() -> u64 {
    (js_sys::Date::now() / 1000.0) as u64
}

fn tab_visible() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_none_or(|d| d.visibility_state() == web_sys::VisibilityState::Visible)
}

/// Shows an SDK failure in words.
fn fail(view: ChatView, what: &str, error: &JsValue) {
    view.error.set(Some(sdk::explain(what, error, view.demo_untracked())));
}

/// Starts everything once the page is hydrated.
pub fn start(view: ChatView) {
    view.now.set(now_secs());
    let _ = set_interval_with_handle(move || view.now.set(now_secs()), std::time::Duration::from_secs(1));
    watch_the_browser(view);
    spawn_local(async move {
        if let Err(e) = load_sdk().await {
            view.connection.set(Connection::SdkMissing);
            fail(view, "Loading Twilio's chat library", &e);
            return;
        }
        if let Some(token) = fetch_token(view).await {
            create_client(view, &token);
        }
    });
}

/// `online`, `offline` and the tab becoming visible.
fn watch_the_browser(view: ChatView) {
    let Some(window) = web_sys::window() else { return };
    let listen = |target: &web_sys::EventTarget, event: &str, handler: Box<dyn FnMut()>| {
        let closure = Closure::<dyn FnMut()>::new(handler);
        let _ = target.add_event_listener_with_callback(event, closure.as_ref().unchecked_ref());
        // The page lives as long as these listeners.
        closure.forget();
    };
    view.offline.set(!window.navigator().on_line());
    listen(&window, "offline", Box::new(move || view.offline.set(true)));
    listen(
        &window,
        "online",
        Box::new(move || {
            view.offline.set(false);
            spawn_local(recover(view));
        }),
    );
    if let Some(document) = window.document() {
        listen(
            &document,
            "visibilitychange",
            Box::new(move || {
                if tab_visible() {
                    mark_read(view);
                    spawn_local(recover(view));
                }
            }),
        );
    }
}

/// Adds the SDK's `<script>` once and waits for it, unless `Twilio.Conversations` is there.
async fn load_sdk() -> Result<(), JsValue> {
    let window = web_sys::window().ok_or("no window")?;
    let twilio = sdk::field(&window, "Twilio");
    if !twilio.is_undefined() && !sdk::field(&twilio, "Conversations").is_undefined() {
        return Ok(());
    }
    let document = window.document().ok_or("no document")?;
    let script = document.create_element("script")?;
    script.set_attribute("src", SDK_PATH)?;
    let loaded = js_sys::Promise::new(&mut |resolve, reject| {
        let on_load = Closure::once_into_js(move || {
            let _ = resolve.call0(&JsValue::NULL);
        });
        let on_error = Closure::once_into_js(move || {
            let _ = reject.call1(&JsValue::NULL, &JsValue::from_str("the script failed to load"));
        });
        let _ = script.add_event_listener_with_callback("load", on_load.unchecked_ref());
        let _ = script.add_event_listener_with_callback("error", on_error.unchecked_ref());
    });
    document.head().ok_or("no head")?.append_child(&script)?;
    wasm_bindgen_futures::JsFuture::from(loaded).await.map(|_| ())
}

/// Gets a token, retrying with backoff; `None` when the user is signed out.
async fn fetch_token(view: ChatView) -> Option<IssuedChatToken> {
    let mut delay_ms = 1000;
    loop {
        if view.signed_out.get_untracked() {
            return None;
        }
        match chat_token().await {
            Ok(token) => {
                view.token_expires_local.set(now_secs() + u64::from(token.ttl));
                view.token_json.set(decode_token(&token.token));
                view.token.set(Some(token.clone()));
                view.error.set(None);
                return Some(token);
            }
            Err(AppError::NotSignedIn) => {
                sign_out(view);
                return None;
            }
            Err(AppError::EmailUnverified) => {
                view.unverified.set(true);
                view.connection.set(Connection::Unverified);
                return None;
            }
            Err(e) => {
                view.error.set(Some(format!(
                    "Could not get a chat token from chatpass ({e}). Retrying in {} s; check your connection.",
                    delay_ms / 1000
                )));
                sdk::sleep(delay_ms).await;
                delay_ms = (delay_ms * 2).min(60_000);
            }
        }
    }
}

/// The token's header and claims, pretty-printed, read from the token itself.
fn decode_token(token: &str) -> Option<(String, String)> {
    let window = web_sys::window()?;
    let pretty = |part: &str| -> Option<String> {
        let mut base64: String = part
            .chars()
            .map(|c| match c {
                '-' => '+',
                '_' => '/',
                c => c,
            })
            .collect();
        while !base64.len().is_multiple_of(4) {
            base64.push('=');
        }
        // `atob` gives one char per byte.
        let bytes: Vec<u8> = window.atob(&base64).ok()?.chars().map(|c| c as u8).collect();
        let json = js_sys::JSON::parse(&String::from_utf8(bytes).ok()?).ok()?;
        js_sys::JSON::stringify_with_replacer_and_space(&json, &JsValue::NULL, &JsValue::from(2))
            .ok()?
            .as_string()
    };
    let mut parts = token.split('.');
    Some((pretty(parts.next()?)?, pretty(parts.next()?)?))
}

/// The session is gone: stop the SDK and say so.
fn sign_out(view: ChatView) {
    view.signed_out.set(true);
    view.connection.set(Connection::SignedOut);
    // The old client's last events ("disconnected") must not overwrite this.
    GENERATION.with(|g| g.set(g.get() + 1));
    if let Some(client) = CLIENT.with(|c| c.borrow_mut().take()) {
        shut_down(client);
    }
}

/// Listens to `event` on the client of `generation`; ignored once it is replaced.
fn on(client: &Client, generation: u32, event: &str, mut handler: impl FnMut(JsValue) + 'static) {
    let closure = Closure::<dyn FnMut(JsValue)>::new(move |payload| {
        if GENERATION.with(Cell::get) == generation {
            handler(payload);
        }
    });
    client.on(event, closure.as_ref().unchecked_ref::<Function>());
    // The client keeps the handler for its whole life; clients are few (one per expiry).
    closure.forget();
}

fn create_client(view: ChatView, token: &IssuedChatToken) {
    let options = match &token.region {
        Some(region) => sdk::object(&[("region", region)]),
        None => js_sys::Object::new().into(),
    };
    let client = match Client::new(&token.token, &options) {
        Ok(client) => client,
        Err(e) => {
            view.connection.set(Connection::Failed);
            fail(view, "Starting Twilio's chat client", &e);
            return;
        }
    };
    let generation = GENERATION.with(|g| {
        g.set(g.get() + 1);
        g.get()
    });
    // Nothing of the old client is used again: its conversations, pages and lookups.
    CONVERSATIONS.with(|c| c.borrow_mut().clear());
    OPEN.with(|o| *o.borrow_mut() = None);
    OLDER.with(|o| *o.borrow_mut() = None);
    ASKED.with(|a| a.borrow_mut().clear());
    UNREAD_ASKS.with(|u| u.borrow_mut().clear());
    LAST_TYPING_MS.with(|t| t.set(f64::NEG_INFINITY));
    next_open();
    view.loading_older.set(false);
    view.connection.set(Connection::Connecting);
    on(&client, generation, "connectionStateChanged", move |state| {
        let state = Connection::from_sdk(&state.as_string().unwrap_or_default());
        if state == Connection::Connected {
            view.error.set(None);
        }
        view.connection.set(state);
    });
    on(&client, generation, "connectionError", move |error| fail(view, "Connecting to Twilio", &error));
    on(&client, generation, "initFailed", move |payload| {
        let error = sdk::field(&payload, "error");
        fail(view, "Starting the chat", if error.is_undefined() { &payload } else { &error });
    });
    on(&client, generation, "initialized", move |_| {
        spawn_local(set_friendly_name(view));
        spawn_local(load_conversations(view));
    });
    for event in ["conversationAdded", "conversationJoined"] {
        on(&client, generation, event, move |conversation| {
            add_conversation(view, conversation.unchecked_into());
        });
    }
    on(&client, generation, "messageAdded", move |message| on_message(view, message.unchecked_into()));
    on(&client, generation, "participantJoined", move |p| on_participant(view, p.unchecked_into(), true));
    on(&client, generation, "participantLeft", move |p| on_participant(view, p.unchecked_into(), false));
    on(&client, generation, "typingStarted", move |p| on_typing(view, p.unchecked_into(), true));
    on(&client, generation, "typingEnded", move |p| on_typing(view, p.unchecked_into(), false));
    on(&client, generation, "userUpdated", move |data| {
        let user: User = sdk::field(&data, "user").unchecked_into();
        remember_name(view, &user);
    });
    on(&client, generation, "tokenAboutToExpire", move |_| spawn_local(refresh_token(view)));
    on(&client, generation, "tokenExpired", move |_| spawn_local(replace_client(view)));
    CLIENT.with(|c| *c.borrow_mut() = Some(client));
}

async fn refresh_token(view: ChatView) {
    let Some(token) = fetch_token(view).await else { return };
    let Some(client) = current_client() else { return };
    match sdk::settle(client.update_token(&token.token)).await {
        Ok(_) => view.refreshes.update(|n| *n += 1),
        Err(e) => fail(view, "Handing Twilio the new token", &e),
    }
}

/// A new token and a new client. `tokenExpired` and a wake-up can both ask at once;
/// one replacement runs, the other asks are dropped.
async fn replace_client(view: ChatView) {
    if REPLACING.with(|r| r.replace(true)) {
        return;
    }
    if let Some(token) = fetch_token(view).await {
        if let Some(old) = CLIENT.with(|c| c.borrow_mut().take()) {
            shut_down(old);
        }
        view.refreshes.update(|n| *n += 1);
        create_client(view, &token);
    }
    REPLACING.with(|r| r.set(false));
}

/// After the network returns or the tab wakes: a new token and client when needed.
async fn recover(view: ChatView) {
    let started = current_client().is_some() && view.token.with_untracked(Option::is_some);
    if !started || view.signed_out.get_untracked() || RECOVERING.with(|r| r.replace(true)) {
        return;
    }
    let left = view.token_expires_local.get_untracked().saturating_sub(now_secs());
    // Connecting: the SDK is already on it. Retrying (waiting out a backoff), disconnected,
    // denied or failed: start over now that the network is back.
    let state = view.connection.get_untracked();
    let connected = state == Connection::Connected;
    if left > 0 && (connected || state == Connection::Connecting) {
        if left <= RENEW_WITHIN_SECS && connected {
            refresh_token(view).await;
        }
    } else {
        view.connection.set(Connection::Recovering);
        replace_client(view).await;
    }
    RECOVERING.with(|r| r.set(false));
}

/// Sets the signed-in user's friendly name to the account's display name.
async fn set_friendly_name(view: ChatView) {
    let Some(client) = current_client() else { return };
    let Some(token) = view.token.get_untracked() else { return };
    let user = client.user();
    let identity = user.identity().unwrap_or(token.identity.clone());
    if user.friendly_name().as_deref() == Some(token.display_name.as_str()) {
        remember_name(view, &user);
        return;
    }
    match sdk::settle(user.update_friendly_name(&token.display_name)).await {
        Ok(_) => {
            ASKED.with(|a| a.borrow_mut().insert(identity.clone()));
            view.names.update(|n| {
                n.insert(identity, token.display_name.clone());
            });
        }
        Err(e) => fail(view, "Showing your display name to others", &e),
    }
}

fn remember_name(view: ChatView, user: &User) {
    let Some(identity) = user.identity() else { return };
    ASKED.with(|a| a.borrow_mut().insert(identity.clone()));
    let name = user.friendly_name().unwrap_or_default();
    view.names.update(|n| {
        n.insert(identity, name);
    });
}

/// Asks the SDK for `identity`'s friendly name, once per identity.
fn learn_name(view: ChatView, identity: &str) {
    if identity.is_empty() || !ASKED.with(|a| a.borrow_mut().insert(identity.to_string())) {
        return;
    }
    let Some(client) = current_client() else { return };
    let identity = identity.to_string();
    spawn_local(async move {
        match sdk::settle(client.get_user(&identity)).await {
            Ok(user) => remember_name(view, user.unchecked_ref()),
            // The identity is shown instead; not worth an error line.
            Err(_) => view.names.update(|n| {
                n.insert(identity, String::new());
            }),
        }
    });
}

/// A conversation's friendly name (else its unique name, else its sid), cleaned like a
/// user's name: it comes from Twilio, unchecked.
fn conversation_name(conversation: &Conversation) -> String {
    let name =
        conversation.friendly_name().filter(|n| !n.trim().is_empty()).or_else(|| conversation.unique_name());
    shown_name(name.as_deref(), &conversation.sid().unwrap_or_else(|| "(unnamed)".into()))
}

fn add_conversation(view: ChatView, conversation: Conversation) {
    let Some(sid) = conversation.sid() else { return };
    let known = CONVERSATIONS.with(|c| c.borrow_mut().insert(sid.clone(), conversation.clone()).is_some());
    view.conversations.update(|list| {
        if !list.iter().any(|item| item.sid == sid) {
            list.push(ConversationItem {
                sid: sid.clone(),
                name: conversation_name(&conversation),
                unread: None,
            });
        }
    });
    if !known {
        spawn_local(count_unread(view, conversation));
    }
}

/// Starts a new unread-count request for `sid`; earlier ones' answers are dropped.
fn ask_unread(sid: &str) -> u32 {
    UNREAD_ASKS.with(|u| {
        let mut asks = u.borrow_mut();
        let ask = asks.entry(sid.to_string()).or_insert(0);
        *ask = ask.wrapping_add(1);
        *ask
    })
}

fn latest_unread_ask(sid: &str, ask: u32) -> bool {
    UNREAD_ASKS.with(|u| u.borrow().get(sid) == Some(&ask))
}

/// The open conversation in a visible tab is read; others are asked for their count.
fn shown_as_read(sid: &str) -> bool {
    tab_visible() && is_open(&Some(sid.to_string()))
}

async fn count_unread(view: ChatView, conversation: Conversation) {
    let Some(sid) = conversation.sid() else { return };
    if shown_as_read(&sid) {
        return;
    }
    let ask = ask_unread(&sid);
    let Ok(count) = sdk::settle(conversation.get_unread_messages_count()).await else { return };
    // `null`: no read horizon here yet (never opened): every message is unread.
    let count = match count.as_f64() {
        Some(n) => Some(n),
        None => sdk::settle(conversation.get_messages_count()).await.ok().and_then(|n| n.as_f64()),
    };
    if latest_unread_ask(&sid, ask) && !shown_as_read(&sid) {
        set_unread(view, &sid, count.map(|n| n.max(0.0) as u32));
    }
}

fn set_unread(view: ChatView, sid: &str, unread: Option<u32>) {
    view.conversations.update(|list| {
        if let Some(item) = list.iter_mut().find(|item| item.sid == sid) {
            item.unread = unread;
        }
    });
}

async fn load_conversations(view: ChatView) {
    let Some(client) = current_client() else { return };
    match sdk::settle(client.get_subscribed_conversations()).await {
        Ok(paginator) => {
            for conversation in paginator.unchecked_into::<Paginator>().items_as::<Conversation>() {
                add_conversation(view, conversation);
            }
        }
        Err(e) => fail(view, "Listing your conversations", &e),
    }
    // A new client after a reconnect: open again what was open, by its sid.
    if let Some((sid, _)) = view.open.get_untracked() {
        reopen(view, client, sid);
    }
}

fn reopen(view: ChatView, client: Client, sid: String) {
    let seq = next_open();
    spawn_local(async move {
        match sdk::settle(client.get_conversation_by_sid(&sid)).await {
            Ok(conversation) => open(view, conversation.unchecked_into(), seq).await,
            Err(e) if still_opening(seq) => fail(view, "Opening the conversation again", &e),
            Err(_) => {}
        }
    });
}

/// Opens the conversation `name`, creating it when there is none, and joins it.
pub fn join_or_create(view: ChatView, name: String) {
    let seq = next_open();
    spawn_local(async move {
        let Some(client) = current_client() else {
            view.error.set(Some(
                "Not connected to Twilio yet. Wait for \u{201c}Connected.\u{201d}, then try again.".into(),
            ));
            return;
        };
        let conversation = match sdk::settle(client.get_conversation_by_unique_name(&name)).await {
            Ok(c) => c.unchecked_into::<Conversation>(),
            Err(e) if sdk::reported(&e).code != Some(NOT_FOUND) => {
                return fail(view, &format!("Opening \u{201c}{name}\u{201d}"), &e);
            }
            Err(_) => {
                let options = sdk::object(&[("uniqueName", &name), ("friendlyName", &name)]);
                match sdk::settle(client.create_conversation(&options)).await {
                    Ok(c) => c.unchecked_into::<Conversation>(),
                    Err(e) => return fail(view, &format!("Creating \u{201c}{name}\u{201d}"), &e),
                }
            }
        };
        // Already a participant is fine.
        let _ = sdk::settle(conversation.join()).await;
        open(view, conversation, seq).await;
    });
}

/// Opens a conversation from the list.
pub fn open_listed(view: ChatView, sid: String) {
    let Some(conversation) = CONVERSATIONS.with(|c| c.borrow().get(&sid).cloned()) else { return };
    spawn_local(open(view, conversation, next_open()));
}

fn is_open(sid: &Option<String>) -> bool {
    sid.is_some() && open_conversation().and_then(|c| c.sid()) == *sid
}

/// Shows `conversation`, unless another open was asked for since `seq`.
async fn open(view: ChatView, conversation: Conversation, seq: u32) {
    if !still_opening(seq) {
        return;
    }
    let sid = conversation.sid();
    add_conversation(view, conversation.clone());
    OPEN.with(|o| *o.borrow_mut() = Some(conversation.clone()));
    OLDER.with(|o| *o.borrow_mut() = None);
    view.open.set(Some((sid.clone().unwrap_or_default(), conversation_name(&conversation))));
    view.messages.set(Vec::new());
    view.participants.set(Vec::new());
    view.typing.set(Vec::new());
    view.has_older.set(false);
    view.loading_older.set(false);
    LAST_TYPING_MS.with(|t| t.set(f64::NEG_INFINITY));

    match sdk::settle(conversation.get_participants()).await {
        Ok(list) if still_opening(seq) => {
            let identities: Vec<String> = js_sys::Array::from(&list)
                .iter()
                .filter_map(|p| p.unchecked_into::<Participant>().identity())
                .collect();
            for identity in &identities {
                learn_name(view, identity);
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
        Err(e) => fail(view, "Listing the participants", &e),
    }
    match sdk::settle(conversation.get_messages(PAGE_SIZE)).await {
        Ok(page) if still_opening(seq) => show_page(view, page.unchecked_into()),
        Ok(_) => return,
        Err(e) => fail(view, "Loading the messages", &e),
    }
    mark_read(view);
}

/// Adds a history page's messages, and keeps the page when there are older ones.
fn show_page(view: ChatView, page: Paginator) {
    let lines: Vec<Line> = page.items_as::<Message>().iter().map(|m| line(view, m)).collect();
    view.messages.update(|shown| merge_lines(shown, lines));
    let older = page.has_prev_page();
    view.has_older.set(older);
    OLDER.with(|o| *o.borrow_mut() = older.then_some(page));
}

/// Loads the page of messages before the oldest shown.
pub fn load_older(view: ChatView) {
    if view.loading_older.get_untracked() {
        return;
    }
    let Some(page) = OLDER.with(|o| o.borrow_mut().take()) else { return };
    let seq = OPENING.with(Cell::get);
    view.loading_older.set(true);
    spawn_local(async move {
        let result = sdk::settle(page.prev_page()).await;
        // Another conversation (or client) since: this page is not for it.
        if !still_opening(seq) {
            return;
        }
        match result {
            Ok(older) => show_page(view, older.unchecked_into()),
            Err(e) => {
                OLDER.with(|o| *o.borrow_mut() = Some(page));
                fail(view, "Loading older messages", &e);
            }
        }
        view.loading_older.set(false);
    });
}

fn line(view: ChatView, message: &Message) -> Line {
    let author = message.author().unwrap_or_default();
    learn_name(view, &author);
    let sent_at_ms = message
        .date_created()
        .dyn_into::<js_sys::Date>()
        .ok()
        .map(|d| d.get_time())
        .filter(|t| t.is_finite());
    Line { index: message.index() as i64, author, body: message.body().unwrap_or_default(), sent_at_ms }
}

fn on_message(view: ChatView, message: Message) {
    let conversation = message.conversation();
    let sid = conversation.sid();
    if is_open(&sid) {
        let line = line(view, &message);
        view.typing.update(|t| t.retain(|identity| *identity != line.author));
        view.messages.update(|shown| merge_lines(shown, [line]));
        mark_read(view);
    } else {
        spawn_local(count_unread(view, conversation));
    }
}

/// Moves the open conversation's read horizon to its end, while the tab is visible.
fn mark_read(view: ChatView) {
    let Some(conversation) = open_conversation() else { return };
    if !tab_visible() {
        spawn_local(count_unread(view, conversation));
        return;
    }
    let Some(sid) = conversation.sid() else { return };
    // Counts asked for before this are stale.
    ask_unread(&sid);
    set_unread(view, &sid, Some(0));
    spawn_local(async move {
        let _ = sdk::settle(conversation.set_all_messages_read()).await;
    });
}

fn on_participant(view: ChatView, participant: Participant, joined: bool) {
    if !is_open(&participant.conversation().sid()) {
        return;
    }
    let Some(identity) = participant.identity() else { return };
    if joined {
        learn_name(view, &identity);
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

fn on_typing(view: ChatView, participant: Participant, started: bool) {
    if !is_open(&participant.conversation().sid()) {
        return;
    }
    let Some(identity) = participant.identity() else { return };
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
pub fn typing() {
    let Some(conversation) = open_conversation() else { return };
    let now = js_sys::Date::now();
    if now - LAST_TYPING_MS.with(Cell::get) < TYPING_EVERY_MS {
        return;
    }
    LAST_TYPING_MS.with(|t| t.set(now));
    // Best effort: a lost typing notice is not worth an error line.
    spawn_local(async move {
        let _ = sdk::settle(conversation.typing()).await;
    });
}

/// Sends `text` to the open conversation.
/// `draft` gets the text back when sending fails (unless something new was typed).
pub fn send(view: ChatView, text: String, draft: RwSignal<String>) {
    let give_back = move |text: String| {
        draft.update(|d| {
            if d.is_empty() {
                *d = text
            }
        })
    };
    spawn_local(async move {
        let Some(conversation) = open_conversation() else {
            view.error
                .set(Some("Open a conversation first: pick one from the list or join one by name.".into()));
            give_back(text);
            return;
        };
        if let Err(e) = sdk::settle(conversation.send_message(&text)).await {
            fail(view, "Sending the message", &e);
            give_back(text);
        }
    });
}
