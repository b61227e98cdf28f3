//! Bindings to Twilio's Conversations browser SDK (`Twilio.Conversations.Client`, from the
//! bundle chatpass serves at [`SDK_PATH`]) and its loading. Browser only.

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::{prelude::*, JsCast};
use wasm_bindgen_futures::JsFuture;

use super::errors::Reported;

#[wasm_bindgen]
extern "C" {
    /// `Twilio.Conversations.Client`.
    #[wasm_bindgen(js_namespace = ["Twilio", "Conversations"], js_name = Client)]
    #[derive(Clone)]
    pub type Client;

    #[wasm_bindgen(constructor, catch, js_namespace = ["Twilio", "Conversations"], js_class = "Client")]
    pub fn new(token: &str, options: &JsValue) -> Result<Client, JsValue>;

    #[wasm_bindgen(method)]
    pub fn on(this: &Client, event: &str, handler: &Function);

    #[wasm_bindgen(method, catch, js_name = updateToken)]
    pub fn update_token(this: &Client, token: &str) -> Result<Promise, JsValue>;

    #[wasm_bindgen(method, catch)]
    pub fn shutdown(this: &Client) -> Result<Promise, JsValue>;

    #[wasm_bindgen(method, catch, js_name = getSubscribedConversations)]
    pub fn get_subscribed_conversations(this: &Client) -> Result<Promise, JsValue>;

    #[wasm_bindgen(method, catch, js_name = getConversationByUniqueName)]
    pub fn get_conversation_by_unique_name(this: &Client, name: &str) -> Result<Promise, JsValue>;

    /// Resolves to the `Conversation` with this sid.
    #[wasm_bindgen(method, catch, js_name = getConversationBySid)]
    pub fn get_conversation_by_sid(this: &Client, sid: &str) -> Result<Promise, JsValue>;

    #[wasm_bindgen(method, catch, js_name = createConversation)]
    pub fn create_conversation(this: &Client, options: &JsValue) -> Result<Promise, JsValue>;

    /// The signed-in `User` (the token's identity).
    #[wasm_bindgen(method, getter)]
    pub fn user(this: &Client) -> User;

    /// Resolves to the `User` with this identity.
    #[wasm_bindgen(method, catch, js_name = getUser)]
    pub fn get_user(this: &Client, identity: &str) -> Result<Promise, JsValue>;

    /// A `User`: a chat identity and its friendly name.
    #[derive(Clone)]
    pub type User;

    #[wasm_bindgen(method, getter)]
    pub fn identity(this: &User) -> Option<String>;

    #[wasm_bindgen(method, getter, js_name = friendlyName)]
    pub fn friendly_name(this: &User) -> Option<String>;

    /// Resolves to the user.
    #[wasm_bindgen(method, catch, js_name = updateFriendlyName)]
    pub fn update_friendly_name(this: &User, name: &str) -> Result<Promise, JsValue>;

    /// A `Participant` of a conversation.
    pub type Participant;

    #[wasm_bindgen(method, getter)]
    pub fn identity(this: &Participant) -> Option<String>;

    #[wasm_bindgen(method, getter)]
    pub fn conversation(this: &Participant) -> Conversation;

    /// A `Conversation`, as the client's promises and `conversationAdded` hand it out.
    /// Never constructed here, so only cast to (`unchecked_into`), never checked.
    #[derive(Clone)]
    pub type Conversation;

    #[wasm_bindgen(method, getter)]
    pub fn sid(this: &Conversation) -> Option<String>;

    #[wasm_bindgen(method, getter, js_name = uniqueName)]
    pub fn unique_name(this: &Conversation) -> Option<String>;

    #[wasm_bindgen(method, getter, js_name = friendlyName)]
    pub fn friendly_name(this: &Conversation) -> Option<String>;

    #[wasm_bindgen(method)]
    pub fn on(this: &Conversation, event: &str, handler: &Function);

    /// Resolves to the conversation.
    #[wasm_bindgen(method, catch)]
    pub fn join(this: &Conversation) -> Result<Promise, JsValue>;

    /// Resolves to a `Paginator` of `Message`s: the newest `page_size`.
    #[wasm_bindgen(method, catch, js_name = getMessages)]
    pub fn get_messages(this: &Conversation, page_size: u32) -> Result<Promise, JsValue>;

    /// Resolves to an array of `Participant`s.
    #[wasm_bindgen(method, catch, js_name = getParticipants)]
    pub fn get_participants(this: &Conversation) -> Result<Promise, JsValue>;

    /// Resolves to a number, or `null` when the user has no read horizon here yet.
    #[wasm_bindgen(method, catch, js_name = getUnreadMessagesCount)]
    pub fn get_unread_messages_count(this: &Conversation) -> Result<Promise, JsValue>;

    /// Resolves to the number of messages in the conversation.
    #[wasm_bindgen(method, catch, js_name = getMessagesCount)]
    pub fn get_messages_count(this: &Conversation) -> Result<Promise, JsValue>;

    /// Moves the read horizon to the last message.
    #[wasm_bindgen(method, catch, js_name = setAllMessagesRead)]
    pub fn set_all_messages_read(this: &Conversation) -> Result<Promise, JsValue>;

    /// Tells the others this user is typing (the SDK ends it by itself after a while).
    #[wasm_bindgen(method, catch)]
    pub fn typing(this: &Conversation) -> Result<Promise, JsValue>;

    /// Resolves to the new message's index.
    #[wasm_bindgen(method, catch, js_name = sendMessage)]
    pub fn send_message(this: &Conversation, body: &str) -> Result<Promise, JsValue>;

    /// A `Paginator<T>`: one page of conversations or messages.
    pub type Paginator;

    #[wasm_bindgen(method, getter)]
    pub fn items(this: &Paginator) -> js_sys::Array;

    #[wasm_bindgen(method, getter, js_name = hasPrevPage)]
    pub fn has_prev_page(this: &Paginator) -> bool;

    /// Resolves to the page before this one (older messages).
    #[wasm_bindgen(method, catch, js_name = prevPage)]
    pub fn prev_page(this: &Paginator) -> Result<Promise, JsValue>;

    /// A `Message`.
    pub type Message;

    #[wasm_bindgen(method, getter)]
    pub fn author(this: &Message) -> Option<String>;

    #[wasm_bindgen(method, getter)]
    pub fn body(this: &Message) -> Option<String>;

    #[wasm_bindgen(method, getter)]
    pub fn index(this: &Message) -> f64;

    /// A `Date`, or `null`.
    #[wasm_bindgen(method, getter, js_name = dateCreated)]
    pub fn date_created(this: &Message) -> JsValue;

    #[wasm_bindgen(method, getter)]
    pub fn conversation(this: &Message) -> Conversation;
}

impl Client {
    /// Calls `handler` on `event` while `is_current()` holds. The client keeps the
    /// handler for its whole life; clients are few (one per token expiry).
    pub fn on_while(
        &self,
        event: &str,
        is_current: impl Fn() -> bool + 'static,
        mut handler: impl FnMut(JsValue) + 'static,
    ) {
        let closure = Closure::<dyn FnMut(JsValue)>::new(move |payload| {
            if is_current() {
                handler(payload);
            }
        });
        self.on(event, closure.as_ref().unchecked_ref::<Function>());
        closure.forget();
    }
}

impl Paginator {
    /// The page's items as `T` (`Conversation` or `Message`, whichever the page holds).
    pub fn items_as<T: JsCast>(&self) -> Vec<T> {
        self.items().iter().map(JsCast::unchecked_into).collect()
    }
}

/// Awaits the promise an SDK method returned; a synchronous throw counts as a rejection.
pub async fn settle(call: Result<Promise, JsValue>) -> Result<JsValue, JsValue> {
    JsFuture::from(call?).await
}

/// Reads `value[key]` as a string, when it is one.
fn string_field(value: &JsValue, key: &str) -> Option<String> {
    Reflect::get(value, &JsValue::from_str(key)).ok().and_then(|v| v.as_string())
}

/// Reads `value[key]` as a number, when it is one.
fn number_field(value: &JsValue, key: &str) -> Option<f64> {
    Reflect::get(value, &JsValue::from_str(key)).ok().and_then(|v| v.as_f64())
}

/// Reads `value[key]`; `undefined` when it cannot be read.
pub fn field(value: &JsValue, key: &str) -> JsValue {
    Reflect::get(value, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// A plain JS object from string pairs.
pub fn object(pairs: &[(&str, &str)]) -> JsValue {
    let obj = js_sys::Object::new();
    for (k, v) in pairs {
        let _ = Reflect::set(&obj, &JsValue::from_str(k), &JsValue::from_str(v));
    }
    obj.into()
}

/// What can be read from an SDK error or event payload, whatever its shape: an
/// `Error`, an object with `code`/`errorCode` and `message`, a string, `undefined`.
pub fn reported(error: &JsValue) -> Reported {
    if error.is_undefined() || error.is_null() {
        return Reported::default();
    }
    if let Some(text) = error.as_string() {
        return Reported { message: Some(text), ..Reported::default() };
    }
    if !error.is_object() {
        return Reported::default();
    }
    let whole_number = |v: f64| (v.is_finite() && v.fract() == 0.0).then_some(v as i64);
    Reported {
        message: string_field(error, "message"),
        code: number_field(error, "errorCode").or_else(|| number_field(error, "code")).and_then(whole_number),
        http_status: number_field(error, "httpStatusCode")
            .or_else(|| number_field(error, "status"))
            .and_then(whole_number),
    }
}

/// The SDK error in words, after `what` (what the page was doing).
pub fn explain(what: &str, error: &JsValue, demo: bool) -> String {
    super::errors::explain(what, &reported(error), demo)
}

/// Resolves after `ms` milliseconds.
pub async fn sleep(ms: i32) {
    let promise = Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// Where chatpass serves Twilio's SDK bundle.
pub const SDK_PATH: &str = "/vendor/twilio-conversations.min.js";

/// Adds the SDK's `<script>` once and waits for it, unless `Twilio.Conversations` is there.
pub async fn load() -> Result<(), JsValue> {
    let window = web_sys::window().ok_or("no window")?;
    let twilio = field(&window, "Twilio");
    if !twilio.is_undefined() && !field(&twilio, "Conversations").is_undefined() {
        return Ok(());
    }
    let document = window.document().ok_or("no document")?;
    let script = document.create_element("script")?;
    script.set_attribute("src", SDK_PATH)?;
    let loaded = Promise::new(&mut |resolve, reject| {
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
    JsFuture::from(loaded).await.map(|_| ())
}

/// Starts a client for `token` in `region` (Twilio's default when `None`).
pub fn start_client(token: &str, region: Option<&str>) -> Result<Client, JsValue> {
    let options = match region {
        Some(region) => object(&[("region", region)]),
        None => js_sys::Object::new().into(),
    };
    Client::new(token, &options)
}

/// Shuts a client down, when there is one. The SDK's promise rejects for a client that
/// never started (a refused token): that is not worth an error, and must not go unhandled.
pub fn shut_down(client: Option<Client>) {
    let Some(client) = client else { return };
    leptos::task::spawn_local(async move {
        let _ = settle(client.shutdown()).await;
    });
}
