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
}

/// Reads `value[key]` as a string, when it is one.
pub fn string_field(value: &JsValue, key: &str) -> Option<String> {
    Reflect::get(value, &JsValue::from_str(key)).ok().and_then(|v| v.as_string())
}

/// Reads `value[key]` as a number, when it is one.
pub fn number_field(value: &JsValue, key: &str) -> Option<f64> {
    Reflect::get(value, &JsValue::from_str(key)).ok().and_then(|v| v.as_f64())
}

pub fn field(value: &JsValue, key: &str) -> JsValue {
    Reflect::get(value, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// Calls `value[method](...args)` and awaits the promise it returns.
pub async fn call_async(value: &JsValue, method: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let function: Function =
        field(value, method).dyn_into().map_err(|_| JsValue::from_str("not a function"))?;
    let array = js_sys::Array::new();
    for arg in args {
        array.push(arg);
    }
    let result = function.apply(value, &array)?;
    match result.dyn_into::<Promise>() {
        Ok(promise) => JsFuture::from(promise).await,
        Err(plain) => Ok(plain),
    }
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
