//! `POST /twilio/conversations`, the Conversations service's webhook, through the real
//! router and a real database: Twilio's signature first (computed here the way
//! twilio-python's `RequestValidator` does, and that helper checked against the library
//! itself in `signatures`), then the pre-action events of identities of no account that may
//! chat refused. One submodule per area.

mod bodies;
mod events;
mod load;
mod metrics;
mod races;
mod secrets;
mod signatures;

use base64::{engine::general_purpose::STANDARD, Engine as _};
use hmac::{Hmac, Mac};

use crate::common::{self, fixtures::GOOD, TestApp};
use chatpass::error::AppError;

/// The Auth Token the tests' servers verify signatures with (32 hex digits, as Twilio's
/// are; distinctive, so a scan for it finds nothing else).
pub const AUTH_TOKEN: &str = "a17b0c3e5d6f4a2b9c8d7e6f5a4b3c2d";
/// Another account's Auth Token: well-formed, and not the one the server has.
pub const OTHER_TOKEN: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";

/// A form's parameters as Twilio sends them: names and values as bytes (a body need not
/// be UTF-8), in the order sent.
pub type Params = Vec<(Vec<u8>, Vec<u8>)>;

/// `pairs` as [`Params`].
pub fn params(pairs: &[(&str, &str)]) -> Params {
    pairs.iter().map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec())).collect()
}

/// What twilio-python's `RequestValidator(token).compute_signature(url, params)` returns:
/// base64 of HMAC-SHA1 keyed by `token` over `url` followed by, for each distinct name in
/// sorted order, the name and each of its distinct values in sorted order. Written from
/// the library's code, not from chatpass's (`signatures::the_tests_signature_is_twilio_pythons`
/// holds it to the library).
pub fn twilio_signature(token: &str, url: &str, params: &Params) -> String {
    let mut names: Vec<&[u8]> = params.iter().map(|(n, _)| n.as_slice()).collect();
    names.sort();
    names.dedup();
    let mut text = url.as_bytes().to_vec();
    for name in names {
        let mut values: Vec<&[u8]> =
            params.iter().filter(|(n, _)| n.as_slice() == name).map(|(_, v)| v.as_slice()).collect();
        values.sort();
        values.dedup();
        for value in values {
            text.extend_from_slice(name);
            text.extend_from_slice(value);
        }
    }
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(token.as_bytes()).expect("any key length");
    mac.update(&text);
    STANDARD.encode(mac.finalize().into_bytes())
}

/// `params` as an `application/x-www-form-urlencoded` body, the way Twilio sends it
/// (space as `+`, everything else but `*-._` and alphanumerics percent-encoded).
pub fn form_body(params: &Params) -> Vec<u8> {
    let encode = |bytes: &[u8]| url::form_urlencoded::byte_serialize(bytes).collect::<String>();
    let pairs: Vec<String> = params.iter().map(|(n, v)| format!("{}={}", encode(n), encode(v))).collect();
    pairs.join("&").into_bytes()
}

/// The webhook's path.
pub const PATH: &str = "/twilio/conversations";

/// The URL Twilio calls when chatpass has no `CHATPASS_PUBLIC_URL`: its listen address.
pub fn hook_url(app: &TestApp) -> String {
    app.url(PATH)
}

/// A server whose webhook is on (`TWILIO_AUTH_TOKEN`), with `env` besides.
pub async fn app_with(env: &[(&str, &str)]) -> TestApp {
    let mut builder = TestApp::builder().env("TWILIO_AUTH_TOKEN", AUTH_TOKEN);
    for (k, v) in env {
        builder = builder.env(k, v);
    }
    builder.spawn().await
}

pub async fn app() -> TestApp {
    app_with(&[]).await
}

/// An answer of the webhook, read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

/// What an answer means to Twilio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// 200 with an empty body: the action goes ahead.
    Allowed,
    /// 403 `chat_refused`: Twilio refuses the action.
    Refused,
    /// 403 `bad_signature`: not signed by Twilio.
    BadSignature,
    /// Anything else: the status and the body's text.
    Other(u16, String),
}

impl Answer {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn outcome(&self) -> Outcome {
        let error: Option<AppError> = serde_json::from_slice(&self.body).ok();
        match (self.status, error) {
            (200, _) if self.body.is_empty() => Outcome::Allowed,
            (403, Some(AppError::ChatRefused)) => Outcome::Refused,
            (403, Some(AppError::BadSignature)) => Outcome::BadSignature,
            _ => Outcome::Other(self.status, self.text()),
        }
    }

    /// The error of a refused answer, as the app's type.
    pub fn error(&self) -> AppError {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not an AppError ({e}): {}", self.text()))
    }
}

/// Sends `body` to `path_and_query` on `app` from a new client (no cookies), with one
/// `X-Twilio-Signature` header per entry of `signatures`.
pub async fn send_raw(app: &TestApp, path_and_query: &str, body: Vec<u8>, signatures: &[&str]) -> Answer {
    send_from(&common::client(), app, path_and_query, body, signatures).await
}

pub async fn send_from(
    client: &reqwest::Client,
    app: &TestApp,
    path_and_query: &str,
    body: Vec<u8>,
    signatures: &[&str],
) -> Answer {
    let mut request = client
        .post(app.url(path_and_query))
        .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        // Twilio's own agent; nothing depends on it.
        .header(reqwest::header::USER_AGENT, "TwilioProxy/1.1");
    for signature in signatures {
        request = request.header("x-twilio-signature", *signature);
    }
    let response = request.body(body).send().await.expect("the webhook answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await.expect("the answer's body").to_vec();
    Answer { status, headers, body }
}

/// `params` to the webhook, signed with [`AUTH_TOKEN`] over `signed_url`.
pub async fn send_signed_for(
    app: &TestApp,
    path_and_query: &str,
    signed_url: &str,
    params: &Params,
) -> Answer {
    let signature = twilio_signature(AUTH_TOKEN, signed_url, params);
    send_raw(app, path_and_query, form_body(params), &[&signature]).await
}

/// `params` to the webhook as Twilio sends them: signed over the webhook's URL.
pub async fn send(app: &TestApp, params: &Params) -> Answer {
    send_signed_for(app, PATH, &hook_url(app), params).await
}

/// The outcome of [`send`].
pub async fn outcome(app: &TestApp, params: &Params) -> Outcome {
    send(app, params).await.outcome()
}

/// What every event of the service carries, then `fields`, then `EventType` last (the
/// order of a body does not matter to the signature).
pub fn event(event_type: &str, fields: &[(&str, &str)]) -> Params {
    let mut pairs = vec![
        ("AccountSid", common::fixtures::ACCOUNT_SID),
        ("ChatServiceSid", common::fixtures::SERVICE_SID),
        ("ConversationSid", "CH00112233445566778899aabbccddeeff"),
        ("RetryCount", "0"),
        ("WebhookSid", "WH00112233445566778899aabbccddeeff"),
        ("WebhookType", "webhook"),
        ("DateCreated", "2026-12-07T10:00:00.000Z"),
    ];
    pairs.extend_from_slice(fields);
    pairs.push(("EventType", event_type));
    params(&pairs)
}

/// `onMessageAdd` from the SDK: `ClientIdentity` and `Author` are the sender.
pub fn message_from(identity: &str) -> Params {
    event(
        "onMessageAdd",
        &[
            ("ClientIdentity", identity),
            ("Author", identity),
            ("Body", "Hello, everyone"),
            ("Attributes", "{}"),
            ("Source", "SDK"),
        ],
    )
}

/// `onMessageAdd` without `ClientIdentity` (sent through the REST API): `Author` acts.
pub fn message_by_author(author: &str) -> Params {
    event("onMessageAdd", &[("Author", author), ("Body", "Hello"), ("Attributes", "{}"), ("Source", "API")])
}

/// `onParticipantAdd`: `actor` (as `ClientIdentity`, if any) adds `identity`.
pub fn participant_added(actor: Option<&str>, identity: &str) -> Params {
    let mut fields =
        vec![("Identity", identity), ("RoleSid", "RL00112233445566778899aabbccddeeff"), ("Attributes", "{}")];
    match actor {
        Some(actor) => fields.extend([("ClientIdentity", actor), ("Source", "SDK")]),
        None => fields.push(("Source", "API")),
    }
    event("onParticipantAdd", &fields)
}

/// `onConversationAdd`, made by `actor` (as `ClientIdentity`), or through the REST API.
pub fn conversation_by(actor: Option<&str>) -> Params {
    let mut fields = vec![("FriendlyName", "Team room"), ("Attributes", "{}"), ("State", "active")];
    match actor {
        Some(actor) => fields.extend([("ClientIdentity", actor), ("Source", "SDK")]),
        None => fields.push(("Source", "API")),
    }
    event("onConversationAdd", &fields)
}

/// Every way `identity` acts in a pre-action event, each named.
pub fn every_action_of(identity: &str) -> Vec<(&'static str, Params)> {
    vec![
        ("a message (ClientIdentity)", message_from(identity)),
        ("a message (Author only)", message_by_author(identity)),
        ("joining (ClientIdentity)", participant_added(Some(identity), identity)),
        ("being added (Identity only)", participant_added(None, identity)),
        ("a conversation (ClientIdentity)", conversation_by(Some(identity))),
    ]
}

/// An account that was proven and then deleted itself through the account page.
pub async fn deleted_account(app: &TestApp, email: &str) {
    let user = app.proven_user(email).await;
    let deleted = app.post_form_with(&user.client, "/api/delete_account", &[("password", GOOD)]).await;
    assert_eq!(deleted.status(), 200, "deletion of {email}: {}", deleted.text().await.unwrap_or_default());
}

/// An account that signed up and never used its link: its email is not proven.
pub async fn unproven_account(app: &TestApp, email: &str) {
    let _link = app.signup_link(email).await;
}

#[tokio::test]
async fn without_an_auth_token_there_is_no_webhook() {
    let app = TestApp::spawn().await;
    let ann = app.proven_user("ann@example.com").await;
    let answer = send(&app, &message_from(&ann.email)).await;
    assert_eq!(answer.status, 404, "{}", answer.text());
    // Unsigned, and signed with any token: the same.
    assert_eq!(send_raw(&app, PATH, form_body(&message_from(&ann.email)), &[]).await.status, 404);
    let other = twilio_signature(OTHER_TOKEN, &hook_url(&app), &message_from(&ann.email));
    assert_eq!(send_raw(&app, PATH, form_body(&message_from(&ann.email)), &[&other]).await.status, 404);
}
