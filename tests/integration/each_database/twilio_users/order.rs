//! An account deleted while its create is still queued: in flight (claimed, its request
//! held at Twilio) the delete waits for it and follows; not claimed yet (waiting out a
//! Retry-After) the create is dropped and only the delete goes out. Either way no User
//! is left behind. And calls for one identity keep their order across accounts: a new
//! account with the email of one whose delete is still being retried is not undone by it.

use serde_json::json;

use super::{create, delete, delete_call, live, outcomes, prove, users_path, PATIENCE};
use crate::common::twilio::{wait_for_calls, QueuedCall};

fn pairs(rows: &[(&str, &str)]) -> Vec<(String, String)> {
    rows.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

#[tokio::test]
async fn a_delete_while_the_create_is_in_flight_waits_for_it_and_leaves_no_user() {
    let live = live(&[]).await;
    // The create is held at Twilio for a while, then fails: it is retried (and made), and
    // the delete queued meanwhile must come after both.
    live.twilio
        .script(json!({"method": "POST", "path_prefix": users_path(), "status": 500, "delay_ms": 2500}))
        .await;
    let ann = prove(&live.app, "ann@example.com", None).await;
    live.wait_for("the create, in flight", |made| made.len() == 1).await;

    delete(&live.app, &ann).await;
    let rows = live.calls().await;
    assert_eq!(rows.len(), 2, "{rows:#?}");
    assert!(
        rows[0].call == "create" && !rows[0].finished() && rows[0].claimed_until.is_some(),
        "the create is still in flight as the delete is queued (the test's premise): {rows:#?}"
    );

    let rows = live.settled(2).await;
    assert_eq!(
        live.made().await,
        [
            create("ann@example.com", "ann", 500),
            create("ann@example.com", "ann", 201),
            delete_call("ann@example.com", 204)
        ],
        "the delete is made only once the create is"
    );
    assert!(live.users().await.is_empty(), "no User left behind");
    assert_eq!(outcomes(&rows), pairs(&[("create", "created"), ("delete", "deleted")]));
    super::assert_names_no_one(&rows);
}

#[tokio::test]
async fn a_delete_before_the_create_is_claimed_drops_it_and_leaves_no_user() {
    let live = live(&[]).await;
    let error = json!({"code": 20503, "message": "Service Unavailable", "status": 503});
    live.twilio
        .script(json!({"method": "POST", "path_prefix": users_path(), "status": 503, "body": error, "headers": {"Retry-After": "60"}}))
        .await;
    let ann = prove(&live.app, "ann@example.com", None).await;
    live.wait_for("the create turned away", |made| made.len() == 1).await;
    wait_for_calls(
        &live.app.pool,
        "the create waiting out its Retry-After",
        PATIENCE,
        |rows: &[QueuedCall]| {
            rows.len() == 1
                && rows[0].attempts == 1
                && rows[0].claimed_until.is_none()
                && rows[0].last_error.is_some()
        },
    )
    .await;

    delete(&live.app, &ann).await;
    let rows = live.settled(1).await;
    assert_eq!(outcomes(&rows), pairs(&[("delete", "absent")]), "the pending create is gone from the queue");
    assert_eq!(
        live.made().await,
        [create("ann@example.com", "ann", 503), delete_call("ann@example.com", 404)]
    );
    assert!(live.users().await.is_empty());
}

#[tokio::test]
async fn a_new_account_with_the_email_of_one_whose_delete_is_retried_keeps_its_user() {
    let live = live(&[]).await;
    let old = prove(&live.app, "ann@example.com", Some("Old Ann")).await;
    live.settled(1).await;
    // Twilio turns the delete away once (held a second, then 500 and a Retry-After).
    live.twilio
        .script(json!({"method": "DELETE", "status": 500, "delay_ms": 1000, "headers": {"Retry-After": "2"}}))
        .await;
    delete(&live.app, &old).await;
    live.wait_for("the delete, in flight", |made| made.len() == 2).await;

    // The address is free at once: a new account takes it and proves it.
    prove(&live.app, "ann@example.com", Some("New Ann")).await;
    let rows = live.calls().await;
    assert!(
        rows.len() == 3 && rows[1].call == "delete" && !rows[1].finished(),
        "the new account's create is queued while the old one's delete is unfinished (the premise): {rows:#?}"
    );

    let rows = live.settled(3).await;
    assert_eq!(
        live.named_users().await,
        [("ann@example.com".to_string(), Some("New Ann".to_string()))],
        "the new account has its User, named; the old account's delete did not undo it. Calls: {:#?}",
        live.made().await
    );
    assert_eq!(
        live.made().await,
        [
            create("ann@example.com", "Old Ann", 201),
            delete_call("ann@example.com", 500),
            delete_call("ann@example.com", 204),
            create("ann@example.com", "New Ann", 201)
        ]
    );
    assert_eq!(
        outcomes(&rows),
        pairs(&[("create", "created"), ("delete", "deleted"), ("create", "created")])
    );
    assert_ne!(rows[1].user_id, rows[2].user_id, "two accounts, one identity");
}
