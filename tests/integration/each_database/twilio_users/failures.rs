//! Twilio misbehaving, scripted at the stand-in: 5xx and 429 are retried (429 no sooner
//! than its `Retry-After`), a hung call times out and is retried, a create that finds the
//! User (409) names it, a delete that finds none (404) is done, a rename that finds none
//! creates it, and any other 4xx is given up, kept and counted. A call Twilio could not be
//! reached for stays queued through a restart.

use std::time::{Duration, Instant};

use serde_json::json;

use super::{
    create, delete, delete_call, live, live_builder, outcomes, prove, rename, rename_call, sample, scrape,
    standin, users_path, PATIENCE,
};
use crate::common::{
    self,
    fixtures::{API_KEY, SERVICE_SID},
    twilio::{wait_for_calls, QueuedCall},
};

fn pairs(rows: &[(&str, &str)]) -> Vec<(String, String)> {
    rows.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

/// Twilio's error body for `status` with its error `code`.
fn twilio_error(status: u16, code: u32, message: &str) -> serde_json::Value {
    json!({"code": code, "message": message, "more_info": format!("https://www.twilio.com/docs/errors/{code}"), "status": status})
}

#[tokio::test]
async fn two_500s_then_201_make_one_user_created_once() {
    let live = live(&[]).await;
    let error = twilio_error(500, 20500, "Internal Server Error");
    live.twilio
        .script(
            json!({"method": "POST", "path_prefix": users_path(), "status": 500, "body": error, "times": 2}),
        )
        .await;

    prove(&live.app, "ann@example.com", Some("Ann Lee")).await;
    let rows = live.settled(1).await;
    assert_eq!(
        live.made().await,
        [
            create("ann@example.com", "Ann Lee", 500),
            create("ann@example.com", "Ann Lee", 500),
            create("ann@example.com", "Ann Lee", 201)
        ]
    );
    assert_eq!(live.named_users().await, [("ann@example.com".to_string(), Some("Ann Lee".to_string()))]);
    assert_eq!(outcomes(&rows), pairs(&[("create", "created")]));
    assert_eq!(rows[0].attempts, 3);
    assert_eq!(rows[0].last_error.as_deref(), Some("Twilio answered 500"), "the last failure is kept");
    super::assert_names_no_one(&rows);
}

#[tokio::test]
async fn a_429_is_retried_no_sooner_than_its_retry_after() {
    let live = live(&[]).await;
    let error = twilio_error(429, 20429, "Too Many Requests");
    let answer = json!({"method": "POST", "path_prefix": users_path(), "status": 429, "body": error, "headers": {"Retry-After": "2"}});
    live.twilio.script(answer).await;
    // A busy server: other accounts' changes wake the sender all the time meanwhile (as
    // they do on any instance with traffic). A wake-up is no reason to retry early.
    let busy = tokio::spawn(async {
        loop {
            chatpass::db::twilio_calls::nudge();
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });

    prove(&live.app, "ann@example.com", None).await;
    live.wait_for("the 429", |made| made.len() == 1).await;
    let answered = Instant::now();
    let made = live.wait_for("the retry", |made| made.len() == 2).await;
    let gap = answered.elapsed();
    busy.abort();
    assert_eq!(made, [create("ann@example.com", "ann", 429), create("ann@example.com", "ann", 201)]);
    // The records carry no time: the gap is the test's own clock between seeing the 429
    // and seeing the retry (each seen within a poll of 25 ms, hence the margin).
    assert!(gap >= Duration::from_millis(1800), "retried {gap:?} after a Retry-After of 2 s");
    let rows = live.settled(1).await;
    assert_eq!(outcomes(&rows), pairs(&[("create", "created")]));
    assert_eq!(rows[0].last_error.as_deref(), Some("Twilio answered 429"));
}

#[tokio::test]
async fn a_create_that_finds_the_user_there_names_it() {
    let live = live(&[]).await;
    // The SDK made it, nameless, when the identity first connected.
    let seeded = live.twilio.seed_nameless_user(SERVICE_SID, "ann@example.com").await;
    assert_eq!(seeded.friendly_name, None);

    prove(&live.app, "ann@example.com", Some("Ann Lee")).await;
    let rows = live.settled(1).await;
    assert_eq!(
        live.made().await,
        [create("ann@example.com", "Ann Lee", 409), rename_call("ann@example.com", "Ann Lee", 200)]
    );
    let users = live.users().await;
    assert_eq!(users.len(), 1);
    assert_eq!(
        (users[0].sid.as_str(), users[0].friendly_name.as_deref()),
        (seeded.sid.as_str(), Some("Ann Lee")),
        "the same User, named"
    );
    assert_eq!(outcomes(&rows), pairs(&[("create", "renamed")]));
    assert_eq!(rows[0].attempts, 1, "a 409 is not a failure");
}

#[tokio::test]
async fn a_delete_that_finds_no_user_is_done_and_not_retried() {
    let live = live(&[]).await;
    let ann = prove(&live.app, "ann@example.com", None).await;
    live.settled(1).await;
    // Deleted at Twilio's console meanwhile (the stand-in forgets its users and records).
    live.twilio.reset().await;

    delete(&live.app, &ann).await;
    let rows = live.settled(2).await;
    assert_eq!(outcomes(&rows), pairs(&[("create", "created"), ("delete", "absent")]));
    assert_eq!((rows[1].attempts, rows[1].failed_at), (1, None));
    // Finished for good; and the sender went on to other work without coming back to it.
    prove(&live.app, "bob@example.com", None).await;
    live.settled(3).await;
    assert_eq!(
        live.made().await,
        [delete_call("ann@example.com", 404), create("bob@example.com", "bob", 201)]
    );
}

#[tokio::test]
async fn a_rename_that_finds_no_user_creates_it() {
    let live = live(&[]).await;
    let ann = prove(&live.app, "ann@example.com", None).await;
    live.settled(1).await;
    live.twilio.reset().await;

    rename(&live.app, &ann, "Ann Lee").await;
    let rows = live.settled(2).await;
    assert_eq!(
        live.made().await,
        [rename_call("ann@example.com", "Ann Lee", 404), create("ann@example.com", "Ann Lee", 201)]
    );
    assert_eq!(live.named_users().await, [("ann@example.com".to_string(), Some("Ann Lee".to_string()))]);
    assert_eq!(outcomes(&rows), pairs(&[("create", "created"), ("rename", "created")]));
}

#[tokio::test]
async fn a_call_that_hangs_past_the_timeout_is_retried_and_made() {
    let live = live(&[]).await;
    live.twilio.script(json!({"method": "POST", "path_prefix": users_path(), "hang": true})).await;

    prove(&live.app, "ann@example.com", None).await;
    live.wait_for("the call that hangs", |made| made.len() == 1).await;
    let hung = Instant::now();
    let made = live.twilio.wait_for("the retry after the timeout", PATIENCE, |r| r.len() == 2).await;
    let waited = hung.elapsed();
    let made: Vec<_> = made.iter().map(super::Made::from).collect();
    assert_eq!(made, [create("ann@example.com", "ann", 0), create("ann@example.com", "ann", 201)]);
    let timeout = chatpass::twilio::rest::CALL_TIMEOUT;
    assert!(
        waited >= timeout - Duration::from_millis(200),
        "gave up on the hung call after {waited:?}, not {timeout:?}"
    );
    let rows = live.settled(1).await;
    assert_eq!(outcomes(&rows), pairs(&[("create", "created")]));
    assert_eq!((rows[0].attempts, rows[0].last_error.as_deref()), (2, Some("timed out")));
    assert_eq!(live.named_users().await.len(), 1);
}

#[tokio::test]
async fn a_400_with_a_twilio_code_is_given_up_kept_and_counted() {
    let live = live(&[("CHATPASS_METRICS_ADDR", "127.0.0.1:0")]).await;
    let metric = r#"chatpass_twilio_calls_total{call="create",result="given_up"}"#;
    let before = sample(&scrape(&live.app).await, metric);
    let error = twilio_error(400, 20001, "Invalid Identity: ann@example.com");
    live.twilio
        .script(json!({"method": "POST", "path_prefix": users_path(), "status": 400, "body": error}))
        .await;

    prove(&live.app, "ann@example.com", None).await;
    let rows = live.settled(1).await;
    let row = &rows[0];
    assert_eq!((row.outcome.as_deref(), row.done_at, row.attempts), (Some("given_up"), None, 1));
    assert!(row.failed_at.is_some());
    let error = row.last_error.as_deref().unwrap_or_default();
    assert!(error.contains("20001") && error.contains("400"), "{error}");
    assert!(
        !error.contains("ann@example.com"),
        "Twilio's message quoted the identity; the row must not: {error}"
    );
    super::assert_names_no_one(&rows);
    // The recorder is the process's, shared with the tests running alongside; none of them
    // has a create given up (an app with no stand-in to call makes no Twilio call at all:
    // `common::no_real_twilio`), so this one is the only one counted.
    let after = sample(&scrape(&live.app).await, metric);
    assert_eq!(after, before + 1.0, "{metric}");

    // Never tried again: the sender goes on to the next account's call, and that is all.
    prove(&live.app, "bob@example.com", None).await;
    live.settled(2).await;
    assert_eq!(
        live.made().await,
        [create("ann@example.com", "ann", 400), create("bob@example.com", "bob", 201)]
    );
    assert!(live.named_users().await.iter().all(|(identity, _)| identity == "bob@example.com"));
}

#[tokio::test]
async fn a_call_no_one_answered_stays_queued_through_a_restart_and_is_made_after() {
    let (database, _dir) = common::database_of_its_own().await;
    // Nothing listens where the first instance calls: every attempt is refused a connection.
    let twilio = standin().await;
    let dead = format!("http://127.0.0.1:{}", common::mail::free_port());
    let first = live_builder(&twilio)
        .env("DATABASE_URL", &database)
        .env("CHATPASS_TWILIO_API_URL", &dead)
        .spawn()
        .await;
    prove(&first, "ann@example.com", Some("Ann Lee")).await;
    let refused = |rows: &[QueuedCall]| {
        rows.len() == 1 && rows[0].attempts >= 1 && rows[0].last_error.is_some() && !rows[0].finished()
    };
    let rows = wait_for_calls(&first.pool, "the create refused a connection", PATIENCE, refused).await;
    let error = rows[0].last_error.clone().unwrap_or_default();
    assert!(!error.contains(API_KEY) && !error.contains("ann@example.com"), "{error}");
    first.stop().await;

    // Started again, with Twilio reachable: the queued create is made, once.
    let app = live_builder(&twilio).env("DATABASE_URL", &database).spawn().await;
    let live = super::Live { app, twilio };
    let rows = live.settled(1).await;
    assert_eq!(outcomes(&rows), pairs(&[("create", "created")]));
    assert!(rows[0].attempts >= 2, "{rows:#?}");
    assert_eq!(live.made().await, [create("ann@example.com", "Ann Lee", 201)]);
    assert_eq!(live.named_users().await, [("ann@example.com".to_string(), Some("Ann Lee".to_string()))]);
}
