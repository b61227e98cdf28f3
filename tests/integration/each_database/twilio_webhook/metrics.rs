//! `chatpass_twilio_webhooks_total{event,result}` counts what the webhook answered. The
//! recorder is one per process and tests run in parallel: "went up by at least".

use super::{app_with, event, form_body, message_from, participant_added, send, send_raw, Outcome, PATH};
use crate::common::TestApp;

async fn scrape(app: &TestApp) -> String {
    let at = app.metrics_addr.expect("metrics are on");
    let response = reqwest::get(format!("http://{at}/metrics")).await.unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

/// The webhook counter's value for `event` and `result` (0 when absent), whatever the order
/// of the labels.
fn webhooks(text: &str, event: &str, result: &str) -> f64 {
    let wanted = [format!("event=\"{event}\""), format!("result=\"{result}\"")];
    text.lines()
        .filter_map(|line| line.strip_prefix("chatpass_twilio_webhooks_total{"))
        .filter_map(|rest| rest.split_once("} "))
        .find(|(labels, _)| {
            let mut labels: Vec<&str> = labels.split(',').collect();
            labels.sort();
            labels == wanted.iter().map(String::as_str).collect::<Vec<_>>()
        })
        .map_or(0.0, |(_, value)| value.trim().parse().unwrap())
}

#[tokio::test]
async fn each_answer_is_counted_by_event_and_result() {
    let app = app_with(&[("CHATPASS_METRICS_ADDR", "127.0.0.1:0")]).await;
    let ann = app.proven_user("ann@example.com").await;
    let before = scrape(&app).await;
    let sent = [
        (message_from(&ann.email), Outcome::Allowed),
        (message_from(&ann.email), Outcome::Allowed),
        (participant_added(Some(&ann.email), &ann.email), Outcome::Allowed),
        (message_from("nobody@example.com"), Outcome::Refused),
        (participant_added(Some(&ann.email), "nobody@example.com"), Outcome::Refused),
        (event("onMessageAdded", &[("Author", "nobody@example.com")]), Outcome::Allowed),
    ];
    for (params, expected) in &sent {
        assert_eq!(send(&app, params).await.outcome(), *expected);
    }
    for _ in 0..3 {
        let answer = send_raw(&app, PATH, form_body(&message_from(&ann.email)), &[]).await;
        assert_eq!(answer.outcome(), Outcome::BadSignature);
    }
    let after = scrape(&app).await;
    for (event, result, at_least) in [
        ("onMessageAdd", "allowed", 2.0),
        ("onParticipantAdd", "allowed", 1.0),
        ("onMessageAdd", "refused", 1.0),
        ("onParticipantAdd", "refused", 1.0),
        ("other", "allowed", 1.0),
        ("any", "bad_signature", 3.0),
    ] {
        let (b, a) = (webhooks(&before, event, result), webhooks(&after, event, result));
        assert!(a >= b + at_least, "{event} {result}: {b} -> {a}\n{after}");
    }
    // Event names Twilio sends are not labels: only the three pre-actions and "other".
    let _ = send(&app, &event("onSomething3f9a", &[])).await;
    assert!(!scrape(&app).await.contains("3f9a"));
}
