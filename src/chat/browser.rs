//! What the chat page asks of the browser, for the token lifecycle and the conversation
//! UI alike: the clock, the tab's visibility, window events, an SDK failure in words,
//! and a token's parts for the token panel. Browser only.

use leptos::prelude::*;
use wasm_bindgen::{prelude::*, JsCast};

use super::{sdk, state::ChatView};

/// Seconds since the epoch, by this browser's clock.
pub fn now_secs() -> u64 {
    (js_sys::Date::now() / 1000.0) as u64
}

/// The page's clock (`view.now`), ticking every second.
pub fn keep_time(view: ChatView) {
    view.now.set(now_secs());
    let _ = set_interval_with_handle(move || view.now.set(now_secs()), std::time::Duration::from_secs(1));
}

pub fn tab_visible() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_none_or(|d| d.visibility_state() == web_sys::VisibilityState::Visible)
}

/// Calls `handler` on every `event` at `target`, for the page's whole life.
pub fn listen(target: &web_sys::EventTarget, event: &str, handler: impl FnMut() + 'static) {
    let closure = Closure::<dyn FnMut()>::new(handler);
    let _ = target.add_event_listener_with_callback(event, closure.as_ref().unchecked_ref());
    // The page lives as long as these listeners.
    closure.forget();
}

/// Calls `handler` each time the tab becomes visible again.
pub fn when_visible(handler: impl Fn() + 'static) {
    if let Some(document) = web_sys::window().and_then(|w| w.document()) {
        listen(&document, "visibilitychange", move || {
            if tab_visible() {
                handler();
            }
        });
    }
}

/// Calls `handler` when the network returns and each time the tab becomes visible again.
pub fn on_wake(handler: impl Fn() + Clone + 'static) {
    if let Some(window) = web_sys::window() {
        listen(&window, "online", handler.clone());
    }
    when_visible(handler);
}

/// Shows an SDK failure in words.
pub fn show_failure(view: ChatView, what: &str, error: &JsValue) {
    view.error.set(Some(sdk::explain(what, error, view.demo_untracked())));
}

/// The token's header and claims, pretty-printed, read from the token itself.
pub fn token_parts(token: &str) -> Option<(String, String)> {
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
