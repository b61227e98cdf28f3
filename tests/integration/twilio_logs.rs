//! What the Twilio side writes to the log, as a collector reads it (`CHATPASS_LOG_FORMAT=json`,
//! the real binary, its real stdout): a call Twilio refuses, given up with Twilio's error
//! code and naming no one; a webhook event chatpass does not act on, by its type; and in
//! demo mode, once that no Twilio call is made and then each call skipped.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::{
    fixtures::{ACCOUNT_SID, API_KEY, GOOD, SERVICE_SID},
    process::Instance,
    twilio::{twilio_python_signature, TwilioStandIn},
};

const SECRET: &str = "twilio-logs-api-secret";
const AUTH_TOKEN: &str = "5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b";

/// An instance on a database of its own, signing accounts up at once (no proof), with
/// JSON logs and `env` besides.
fn instance(dir: &tempfile::TempDir, env: &[(&str, &str)]) -> Instance {
    let db = format!("sqlite://{}/chatpass.db", dir.path().display());
    let outbox = dir.path().join("outbox").display().to_string();
    let mut all = vec![
        ("CHATPASS_LOG_FORMAT", "json"),
        ("CHATPASS_EMAIL_VERIFICATION", "off"),
        ("DATABASE_URL", db.as_str()),
        ("CHATPASS_OUTBOX_DIR", outbox.as_str()),
    ];
    all.extend_from_slice(env);
    Instance::start(&all)
}

async fn sign_up(at: &Instance, email: &str) {
    let signup = reqwest::Client::new()
        .post(at.url("/api/signup"))
        .header("origin", format!("http://{}", at.addr))
        .header("accept", "application/json")
        .form(&[("email", email), ("password", GOOD)])
        .send()
        .await
        .unwrap();
    assert_eq!(signup.status(), 200, "{}", signup.text().await.unwrap_or_default());
}

/// The log lines (as JSON) `f` holds for, once there are `n` of them (waited for, bounded).
async fn lines(at: &Instance, what: &str, n: usize, f: impl Fn(&Value) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let found: Vec<Value> =
            at.logs().iter().filter_map(|l| serde_json::from_str::<Value>(l).ok()).filter(|e| f(e)).collect();
        if found.len() >= n {
            return found;
        }
        assert!(Instant::now() < deadline, "no {n} log line(s) for {what}:\n{}", at.logs().join("\n"));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn line(at: &Instance, what: &str, f: impl Fn(&Value) -> bool) -> Value {
    lines(at, what, 1, f).await.remove(0)
}

#[tokio::test]
async fn a_refused_call_is_logged_with_twilios_code_and_an_unknown_webhook_event_by_its_type() {
    let twilio = TwilioStandIn::start_with(json!({"credentials": [[API_KEY, SECRET]]})).await;
    let error = json!({"code": 20001, "message": "Invalid Identity: ann@example.com", "status": 400});
    twilio.script(json!({"method": "POST", "status": 400, "body": error})).await;
    let dir = tempfile::tempdir().unwrap();
    let at = instance(
        &dir,
        &[
            ("TWILIO_ACCOUNT_SID", ACCOUNT_SID),
            ("TWILIO_API_KEY", API_KEY),
            ("TWILIO_API_SECRET", SECRET),
            ("TWILIO_CHAT_SERVICE_SID", SERVICE_SID),
            ("TWILIO_AUTH_TOKEN", AUTH_TOKEN),
            ("CHATPASS_TWILIO_API_URL", twilio.url()),
        ],
    );
    sign_up(&at, "ann@example.com").await;
    let given_up =
        line(&at, "the call given up", |e| e["message"] == "Twilio refused the call; given up").await;
    assert_eq!(given_up["level"], "ERROR", "{given_up}");
    assert_eq!(given_up["twilio.code"], 20001, "{given_up}");
    assert_eq!(given_up["call"], "create", "{given_up}");
    assert!(given_up["user.id"].is_number(), "{given_up}");

    let url = at.url("/twilio/conversations");
    let params = [("EventType", "onConversationStateUpdated"), ("ConversationSid", "CH0123")];
    let signature = twilio_python_signature(AUTH_TOKEN, &url, &params);
    let hook = reqwest::Client::new()
        .post(&url)
        .header("X-Twilio-Signature", signature)
        .form(&params)
        .send()
        .await
        .unwrap();
    assert_eq!(hook.status(), 200);
    let received = line(&at, "the event", |e| e["message"] == "Twilio webhook received").await;
    assert_eq!(received["event"], "onConversationStateUpdated", "{received}");

    for l in at.logs() {
        assert!(!l.contains("ann@example.com"), "a log line names the account: {l}");
        assert!(!l.contains(SECRET) && !l.contains(AUTH_TOKEN), "a secret in a log line: {l}");
    }
}

#[tokio::test]
async fn demo_mode_says_once_that_it_makes_no_twilio_call_and_logs_each_call_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let at = instance(&dir, &[]);
    sign_up(&at, "ann@example.com").await;
    sign_up(&at, "bob@example.com").await;
    let skipped = |e: &Value| e["message"] == "Twilio call skipped (demo mode)";
    let calls = lines(&at, "both calls skipped", 2, skipped).await;
    assert!(calls.iter().all(|e| e["call"] == "create" && e["user.id"].is_number()), "{calls:?}");
    let said = |e: &Value| e["message"].as_str().is_some_and(|m| m.starts_with("Twilio Users are not kept"));
    assert_eq!(lines(&at, "the notice", 1, said).await.len(), 1, "said once, at start");
}
