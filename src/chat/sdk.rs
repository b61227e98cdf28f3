//! Bindings to Twilio's Conversations browser SDK (`Twilio.Conversations.Client`, from the
//! bundle chatpass serves at `/vendor/twilio-conversations.min.js`). Browser only.

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::{prelude::*, JsCast};
use wasm_bindgen_futures::JsFuture;

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

    #[wasm_bindgen(method, catch, js_name = createConversation)]
    pub fn create_conversation(this: &Client, options: &JsValue) -> Result<Promise, JsValue>;

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

    /// Resolves to a `Paginator` of `Message`s (the newest page).
    #[wasm_bindgen(method, catch, js_name = getMessages)]
    pub fn get_messages(this: &Conversation) -> Result<Promise, JsValue>;

    /// Resolves to the new message's index.
    #[wasm_bindgen(method, catch, js_name = sendMessage)]
    pub fn send_message(this: &Conversation, body: &str) -> Result<Promise, JsValue>;

    /// A `Paginator<T>`: one page of conversations or messages.
    pub type Paginator;

    #[wasm_bindgen(method, getter)]
    pub fn items(this: &Paginator) -> js_sys::Array;

    /// A `Message`.
    pub type Message;

    #[wasm_bindgen(method, getter)]
    pub fn author(this: &Message) -> Option<String>;

    #[wasm_bindgen(method, getter)]
    pub fn body(this: &Message) -> Option<String>;
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

/// The message and error code of an SDK error or event payload.
pub fn describe_error(error: &JsValue) -> String {
    let message = string_field(error, "message")
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "unknown error".into());
    let code = number_field(error, "errorCode").or_else(|| number_field(error, "code"));
    match code {
        Some(code) => format!("{message} (Twilio error {code})"),
        None => message,
    }
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
