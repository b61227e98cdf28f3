//! Twilio's side of an account (issue #29) through the real router, a real database and
//! the real sender, which talks over loopback to the stand-in for Twilio's REST API
//! (`tests/twilio/standin.py`): an account's Conversations User is created when it can
//! chat, renamed with it and deleted with it, through the durable queue `twilio_calls`.
//! Each test looks at both ends: what the stand-in was sent and holds, and how each row of
//! the queue ended.

mod failures;
mod made_proven;
mod order;
mod races;
mod shapes;
mod skipped;
mod story;
mod two_instances;
mod user_id;

use std::time::Duration;

use crate::common;

use common::{
    fixtures::{ACCOUNT_SID, API_KEY, GOOD, SERVICE_SID},
    twilio::{self, QueuedCall, Recorded, StoredUser, TwilioStandIn},
    user::TestUser,
    TestApp, TestAppBuilder,
};

/// The API secret the live apps here sign with (and the stand-in lets in, with [`API_KEY`]).
pub const SECRET: &str = "twilio-users-api-secret";
/// The Auth Token Twilio would sign webhooks with (32 hex digits).
pub const AUTH_TOKEN: &str = "0123456789abcdef0123456789abcdef";
/// The content type of a form body, as both chatpass and twilio-python send it.
pub const USERS_FORM: &str = "application/x-www-form-urlencoded";
/// How long a test waits for the sender: far above what a call takes, so reaching it is a hang.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// A live chatpass whose Twilio calls go to its own stand-in.
pub struct Live {
    pub app: TestApp,
    pub twilio: TwilioStandIn,
}

/// The settings that make an app live with its REST calls going to `twilio`: the four
/// TWILIO_* values and `CHATPASS_TWILIO_API_URL`.
pub fn live_env(twilio: &TwilioStandIn) -> Vec<(&'static str, String)> {
    vec![
        ("TWILIO_ACCOUNT_SID", ACCOUNT_SID.to_string()),
        ("TWILIO_API_KEY", API_KEY.to_string()),
        ("TWILIO_API_SECRET", SECRET.to_string()),
        ("TWILIO_CHAT_SERVICE_SID", SERVICE_SID.to_string()),
        ("CHATPASS_TWILIO_API_URL", twilio.url().to_string()),
    ]
}

/// A stand-in that lets in only this key and secret (a request with other credentials
/// gets Twilio's 401, so a wrong pair could not pass unnoticed).
pub async fn standin() -> TwilioStandIn {
    TwilioStandIn::start_with(
        serde_json::json!({"credentials": [[API_KEY, SECRET]], "account_sid": ACCOUNT_SID}),
    )
    .await
}

/// A builder of live apps whose calls go to `twilio` ([`live_env`]).
pub fn live_builder(twilio: &TwilioStandIn) -> TestAppBuilder {
    live_env(twilio).into_iter().fold(TestApp::builder(), |builder, (key, value)| builder.env(key, &value))
}

/// A live app (plus `env`) and its stand-in.
pub async fn live(env: &[(&str, &str)]) -> Live {
    let twilio = standin().await;
    let mut builder = live_builder(&twilio);
    for (key, value) in env {
        builder = builder.env(key, value);
    }
    Live { app: builder.spawn().await, twilio }
}

impl Live {
    /// The Users Twilio (the stand-in) holds for the app's service.
    pub async fn users(&self) -> Vec<StoredUser> {
        self.twilio.users(SERVICE_SID).await
    }

    /// `(identity, friendly name)` of each User held, in creation order.
    pub async fn named_users(&self) -> Vec<(String, Option<String>)> {
        self.users().await.into_iter().map(|u| (u.identity, u.friendly_name)).collect()
    }

    /// The Twilio calls the app made, as the stand-in saw them, in arrival order.
    pub async fn made(&self) -> Vec<Made> {
        self.twilio.requests().await.iter().map(Made::from).collect()
    }

    pub async fn calls(&self) -> Vec<QueuedCall> {
        twilio::queued_calls(&self.app.pool).await
    }

    /// Waits until the queue holds `n` rows, all finished: the sender has nothing left.
    pub async fn settled(&self, n: usize) -> Vec<QueuedCall> {
        let what = format!("{n} finished Twilio call(s)");
        twilio::wait_for_calls(&self.app.pool, &what, PATIENCE, |rows| {
            rows.len() == n && rows.iter().all(QueuedCall::finished)
        })
        .await
    }

    /// Waits until `f` holds for the stand-in's records.
    pub async fn wait_for(&self, what: &str, f: impl Fn(&[Made]) -> bool) -> Vec<Made> {
        let records =
            self.twilio.wait_for(what, PATIENCE, |r| f(&r.iter().map(Made::from).collect::<Vec<_>>())).await;
        records.iter().map(Made::from).collect()
    }
}

/// A Twilio call as the stand-in received it, read back into what it asked for, with the
/// status it was answered (0: a scripted hang, never answered).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Made {
    /// `POST …/Users`: `Identity`, `FriendlyName`.
    Create { identity: String, name: String, answered: u16 },
    /// `POST …/Users/{identity}`: `FriendlyName`.
    Rename { identity: String, name: String, answered: u16 },
    /// `DELETE …/Users/{identity}`.
    Delete { identity: String, answered: u16 },
    /// Anything else (the method and raw path).
    Other(String),
}

impl From<&Recorded> for Made {
    fn from(r: &Recorded) -> Made {
        let field =
            |name: &str| r.form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
        let answered = r.answered;
        let segments: Vec<&str> = r.path_segments.iter().map(String::as_str).collect();
        match (r.method.as_str(), segments.as_slice()) {
            ("POST", ["v1", "Services", SERVICE_SID, "Users"]) => {
                Made::Create { identity: field("Identity"), name: field("FriendlyName"), answered }
            }
            ("POST", ["v1", "Services", SERVICE_SID, "Users", identity]) => {
                Made::Rename { identity: identity.to_string(), name: field("FriendlyName"), answered }
            }
            ("DELETE", ["v1", "Services", SERVICE_SID, "Users", identity]) => {
                Made::Delete { identity: identity.to_string(), answered }
            }
            _ => Made::Other(format!("{} {}", r.method, r.raw_path)),
        }
    }
}

impl Made {
    pub fn identity(&self) -> Option<&str> {
        match self {
            Made::Create { identity, .. } | Made::Rename { identity, .. } | Made::Delete { identity, .. } => {
                Some(identity)
            }
            Made::Other(_) => None,
        }
    }

    pub fn is_create(&self) -> bool {
        matches!(self, Made::Create { .. })
    }

    pub fn is_delete(&self) -> bool {
        matches!(self, Made::Delete { .. })
    }
}

pub fn create(identity: &str, name: &str, answered: u16) -> Made {
    Made::Create { identity: identity.into(), name: name.into(), answered }
}

pub fn rename_call(identity: &str, name: &str, answered: u16) -> Made {
    Made::Rename { identity: identity.into(), name: name.into(), answered }
}

pub fn delete_call(identity: &str, answered: u16) -> Made {
    Made::Delete { identity: identity.into(), answered }
}

/// `(call, outcome)` of each row, oldest first.
pub fn outcomes(rows: &[QueuedCall]) -> Vec<(String, String)> {
    rows.iter().map(|r| (r.call.clone(), r.outcome.clone().unwrap_or_default())).collect()
}

/// Every finished row is erased of what named the account (personal data must not linger).
pub fn assert_names_no_one(rows: &[QueuedCall]) {
    for row in rows.iter().filter(|r| r.finished()) {
        assert!(!row.names_someone(), "a finished row still names its account: {row:?}");
    }
}

/// `POST /v1/Services/{IS}/Users…`: the prefix of every Users request of the app's service.
pub fn users_path() -> String {
    format!("/v1/Services/{SERVICE_SID}/Users")
}

/// Signs `email` up from a new browser and proves it there, choosing [`GOOD`] and, when
/// given, `name` as the display name on the link's page: an account that can chat.
pub async fn prove(app: &TestApp, email: &str, name: Option<&str>) -> TestUser {
    let user = TestUser { email: email.to_string(), password: GOOD.to_string(), client: common::client() };
    let token = app.signup_link(email).await;
    let mut form = vec![("token", token.as_str()), ("password", GOOD)];
    if let Some(name) = name {
        form.push(("display_name", name));
    }
    let proof = app.post_form_with(&user.client, "/api/verify_email", &form).await;
    assert_eq!(proof.status(), 200, "proof of {email}: {}", proof.text().await.unwrap_or_default());
    user
}

/// `POST /api/set_display_name` from `user`'s browser; the answer.
pub async fn set_name(app: &TestApp, user: &TestUser, name: &str) -> reqwest::Response {
    app.post_form_with(&user.client, "/api/set_display_name", &[("display_name", name)]).await
}

/// Renames `user` on the account page; it must be accepted.
pub async fn rename(app: &TestApp, user: &TestUser, name: &str) {
    let response = set_name(app, user, name).await;
    assert_eq!(
        response.status(),
        200,
        "rename of {}: {}",
        user.email,
        response.text().await.unwrap_or_default()
    );
}

/// `POST /api/delete_account` from `user`'s browser with their password; the answer.
pub async fn delete_account(app: &TestApp, user: &TestUser) -> reqwest::Response {
    app.post_form_with(&user.client, "/api/delete_account", &[("password", &user.password)]).await
}

/// Deletes `user`'s account; it must be accepted.
pub async fn delete(app: &TestApp, user: &TestUser) {
    let response = delete_account(app, user).await;
    assert_eq!(
        response.status(),
        200,
        "deletion of {}: {}",
        user.email,
        response.text().await.unwrap_or_default()
    );
}

/// `users.chat_id` of `email`: the opaque identity of `CHATPASS_CHAT_IDENTITY=user-id`.
pub async fn chat_id_of(app: &TestApp, email: &str) -> String {
    let sql = "SELECT chat_id FROM users WHERE email = $1";
    match &app.pool {
        chatpass::db::Pool::Sqlite(p) => sqlx::query_scalar(sql).bind(email).fetch_one(p).await.unwrap(),
        chatpass::db::Pool::Postgres(p) => sqlx::query_scalar(sql).bind(email).fetch_one(p).await.unwrap(),
    }
}

/// `/metrics` of an app started with `CHATPASS_METRICS_ADDR`.
pub async fn scrape(app: &TestApp) -> String {
    let at = app.metrics_addr.expect("metrics are on");
    let response = reqwest::get(format!("http://{at}/metrics")).await.unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

/// The value of the sample `name` (labels as Prometheus writes them); 0 when absent.
pub fn sample(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
        .map_or(0.0, |v| v.trim().parse().unwrap())
}
