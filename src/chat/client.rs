//! The chat page's controller, in the browser: fetches a token from `/api/chat_token`,
//! starts the Conversations SDK with it, and keeps the token fresh.
//!
//! - `tokenAboutToExpire`: fetch a new token, `updateToken` it.
//! - `tokenExpired`: fetch a new token, shut the old client down, create a new one.
//! - A 401 from the token endpoint (the session is gone): shut the client down and show
//!   the signed-out state. Nothing is retried then.
//! - Any other failure: retry with exponential backoff (1 s, 2 s, 4 s … at most 60 s).

use std::cell::RefCell;

use js_sys::Function;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::{prelude::*, JsCast};

use super::{
    sdk::{self, Client, Conversation, Message, Paginator},
    state::{ChatView, Line},
};
use crate::{
    error::AppError,
    token::{chat_token, IssuedChatToken},
};

/// Where chatpass serves Twilio's SDK bundle.
pub const SDK_PATH: &str = "/vendor/twilio-conversations.min.js";

thread_local! {
    static CLIENT: RefCell<Option<Client>> = const { RefCell::new(None) };
    static OPEN: RefCell<Option<Conversation>> = const { RefCell::new(None) };
}

fn current_client() -> Option<Client> {
    CLIENT.with(|c| c.borrow().clone())
}

/// Starts everything once the page is hydrated.
pub fn start(view: ChatView) {
    view.now.set(now_secs());
    let _ = set_interval_with_handle(move || view.now.set(now_secs()), std::time::Duration::from_secs(1));
    spawn_local(async move {
        if let Err(e) = load_sdk().await {
            view.connection.set("not connected".into());
            view.error.set(Some(format!("The Twilio SDK could not be loaded: {}", sdk::describe_error(&e))));
            return;
        }
        if let Some(token) = fetch_token(view).await {
            create_client(view, &token);
        }
    });
}

fn now_secs() -> u64 {
    (js_sys::Date::now() / 1000.0) as u64
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
                view.connection.set("waiting for your email to be confirmed".into());
                return None;
            }
            Err(e) => {
                view.error.set(Some(format!(
                    "Could not get a chat token ({e}). Retrying in {} s.",
                    delay_ms / 1000
                )));
                sdk::sleep(delay_ms).await;
                delay_ms = (delay_ms * 2).min(60_000);
            }
        }
    }
}

/// The session is gone: stop the SDK and say so.
fn sign_out(view: ChatView) {
    view.signed_out.set(true);
    view.connection.set("signed out".into());
    if let Some(client) = CLIENT.with(|c| c.borrow_mut().take()) {
        let _ = client.shutdown();
    }
}

fn on(client: &Client, event: &str, handler: impl FnMut(JsValue) + 'static) {
    let closure = Closure::<dyn FnMut(JsValue)>::new(handler);
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
            view.error.set(Some(format!("The Twilio SDK refused to start: {}", sdk::describe_error(&e))));
            return;
        }
    };
    view.connection.set("connecting".into());
    on(&client, "connectionStateChanged", move |state| {
        let state = state.as_string().unwrap_or_default();
        view.connection.set(plain_state(&state).into());
    });
    on(&client, "connectionError", move |error| {
        view.error.set(Some(sdk::describe_error(&error)));
    });
    on(&client, "initFailed", move |payload| {
        let error = sdk::field(&payload, "error");
        let error = if error.is_undefined() { payload } else { error };
        view.error.set(Some(format!("Chat could not start: {}", sdk::describe_error(&error))));
    });
    on(&client, "initialized", move |_| spawn_local(load_conversations(view)));
    on(&client, "conversationAdded", move |conversation| {
        let name = conversation_name(conversation.unchecked_ref());
        view.conversations.update(|list| {
            if !list.contains(&name) {
                list.push(name);
            }
        });
    });
    on(&client, "tokenAboutToExpire", move |_| spawn_local(refresh_token(view)));
    on(&client, "tokenExpired", move |_| spawn_local(replace_client(view)));
    CLIENT.with(|c| *c.borrow_mut() = Some(client));
}

/// The SDK's connection states, in plain words.
fn plain_state(state: &str) -> &'static str {
    match state {
        "connecting" => "connecting",
        "connected" => "connected",
        "disconnecting" => "disconnecting",
        "disconnected" => "disconnected",
        "denied" => "denied (Twilio refused the token)",
        "retrying" => "retrying",
        _ => "unknown",
    }
}

async fn refresh_token(view: ChatView) {
    let Some(token) = fetch_token(view).await else { return };
    let Some(client) = current_client() else { return };
    match sdk::settle(client.update_token(&token.token)).await {
        Ok(_) => view.refreshes.update(|n| *n += 1),
        Err(e) => view.error.set(Some(format!("Could not update the token: {}", sdk::describe_error(&e)))),
    }
}

async fn replace_client(view: ChatView) {
    let Some(token) = fetch_token(view).await else { return };
    if let Some(old) = CLIENT.with(|c| c.borrow_mut().take()) {
        let _ = old.shutdown();
    }
    view.refreshes.update(|n| *n += 1);
    create_client(view, &token);
}

fn conversation_name(conversation: &Conversation) -> String {
    conversation
        .unique_name()
        .or_else(|| conversation.friendly_name())
        .or_else(|| conversation.sid())
        .unwrap_or_else(|| "(unnamed)".into())
}

async fn load_conversations(view: ChatView) {
    let Some(client) = current_client() else { return };
    match sdk::settle(client.get_subscribed_conversations()).await {
        Ok(paginator) => {
            let conversations = paginator.unchecked_into::<Paginator>().items_as::<Conversation>();
            let names: Vec<String> = conversations.iter().map(conversation_name).collect();
            view.conversations.set(names);
        }
        Err(e) => view.error.set(Some(format!("Could not list conversations: {}", sdk::describe_error(&e)))),
    }
}

/// Opens the conversation `name`, creating it when there is none, and joins it.
pub fn join_or_create(view: ChatView, name: String) {
    spawn_local(async move {
        let Some(client) = current_client() else {
            view.error.set(Some("Not connected to Twilio yet.".into()));
            return;
        };
        let conversation = match sdk::settle(client.get_conversation_by_unique_name(&name)).await {
            Ok(c) => c.unchecked_into::<Conversation>(),
            Err(_) => {
                let options = sdk::object(&[("uniqueName", &name), ("friendlyName", &name)]);
                match sdk::settle(client.create_conversation(&options)).await {
                    Ok(c) => c.unchecked_into::<Conversation>(),
                    Err(e) => {
                        view.error
                            .set(Some(format!("Could not create {name:?}: {}", sdk::describe_error(&e))));
                        return;
                    }
                }
            }
        };
        // Already a participant is fine.
        let _ = sdk::settle(conversation.join()).await;
        open(view, conversation, name).await;
    });
}

async fn open(view: ChatView, conversation: Conversation, name: String) {
    view.conversations.update(|list| {
        if !list.contains(&name) {
            list.push(name.clone());
        }
    });
    OPEN.with(|o| *o.borrow_mut() = Some(conversation.clone()));
    view.open.set(Some(name));
    view.messages.set(Vec::new());
    let sid = conversation.sid();
    let handler = Closure::<dyn FnMut(Message)>::new(move |message: Message| {
        let still_open = OPEN.with(|o| o.borrow().as_ref().map(Conversation::sid) == Some(sid.clone()));
        if still_open {
            view.messages.update(|m| m.push(line(&message)));
        }
    });
    conversation.on("messageAdded", handler.as_ref().unchecked_ref::<Function>());
    handler.forget();
    match sdk::settle(conversation.get_messages()).await {
        Ok(paginator) => {
            let messages = paginator.unchecked_into::<Paginator>().items_as::<Message>();
            let lines: Vec<Line> = messages.iter().map(line).collect();
            view.messages.update(|m| {
                let mut all = lines;
                all.append(m);
                *m = all;
            });
        }
        Err(e) => view.error.set(Some(format!("Could not load messages: {}", sdk::describe_error(&e)))),
    }
}

fn line(message: &Message) -> Line {
    Line { author: message.author().unwrap_or_default(), body: message.body().unwrap_or_default() }
}

/// Sends `text` to the open conversation.
pub fn send(view: ChatView, text: String) {
    spawn_local(async move {
        let Some(conversation) = OPEN.with(|o| o.borrow().clone()) else {
            view.error.set(Some("Open a conversation first.".into()));
            return;
        };
        if let Err(e) = sdk::settle(conversation.send_message(&text)).await {
            view.error.set(Some(format!("Could not send: {}", sdk::describe_error(&e))));
        }
    });
}
