//! Twilio waits 5 s for a pre-action webhook, then applies the service's failure policy:
//! the answer must come well within that, alone and with many at once. Sanity bounds, not
//! a benchmark (that is `make bench`).

use std::time::{Duration, Instant};

use super::{
    app, deleted_account, form_body, message_from, participant_added, send, send_raw, unproven_account,
    Outcome, Params, PATH,
};

#[tokio::test]
async fn a_webhook_is_answered_well_within_twilios_five_seconds() {
    let app = app().await;
    let ann = app.proven_user("ann@example.com").await;
    for (params, expected) in
        [(message_from(&ann.email), Outcome::Allowed), (message_from("nobody@example.com"), Outcome::Refused)]
    {
        let started = Instant::now();
        let answer = send(&app, &params).await;
        let took = started.elapsed();
        assert_eq!(answer.outcome(), expected);
        assert!(took < Duration::from_secs(1), "answered in {took:?}");
    }
}

#[tokio::test]
async fn fifty_concurrent_webhooks_are_each_answered_rightly() {
    let app = app().await;
    let ann = app.proven_user("ann@example.com").await;
    let bob = app.proven_user("bob@example.com").await;
    deleted_account(&app, "carl@example.com").await;
    unproven_account(&app, "dora@example.com").await;
    let kinds: [(Params, Option<&str>, Outcome); 7] = [
        (message_from(&ann.email), None, Outcome::Allowed),
        (participant_added(Some(&ann.email), &bob.email), None, Outcome::Allowed),
        (message_from("carl@example.com"), None, Outcome::Refused),
        (message_from("dora@example.com"), None, Outcome::Refused),
        (participant_added(Some(&bob.email), "carl@example.com"), None, Outcome::Refused),
        (message_from("nobody@example.com"), None, Outcome::Refused),
        (message_from(&ann.email), Some("AAAA"), Outcome::BadSignature),
    ];
    let app = std::sync::Arc::new(app);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..50 {
        let (params, signature, expected) = kinds[i % kinds.len()].clone();
        let app = app.clone();
        tasks.spawn(async move {
            let answer = match signature {
                Some(signature) => send_raw(&app, PATH, form_body(&params), &[signature]).await,
                None => send(&app, &params).await,
            };
            (i, answer.outcome(), expected)
        });
    }
    let answers = tasks.join_all().await;
    let took = started.elapsed();
    assert_eq!(answers.len(), 50);
    for (i, got, expected) in &answers {
        assert_eq!(got, expected, "webhook {i}");
    }
    assert!(took < Duration::from_secs(5), "50 at once answered in {took:?}");
}
