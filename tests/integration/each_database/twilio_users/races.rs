//! Account changes racing each other, and Twilio's state after: a rename racing a delete
//! leaves no User, whichever commits first (sent at once, for many accounts; and with the
//! rename's call held in flight as the delete commits); two renames at once leave Twilio
//! with the name the account ended with.

use serde_json::json;

use super::{
    create, delete, delete_account, delete_call, live, outcomes, prove, rename, rename_call, set_name,
    users_path, PATIENCE,
};
use crate::common::{
    twilio::{wait_for_calls, QueuedCall},
    user::TestUser,
};

/// Waits until every row is finished and each of `n` accounts has a finished delete.
async fn all_deleted(live: &super::Live, n: usize) -> Vec<QueuedCall> {
    wait_for_calls(&live.app.pool, "every account's delete, finished", PATIENCE, |rows| {
        rows.iter().all(QueuedCall::finished) && rows.iter().filter(|r| r.call == "delete").count() == n
    })
    .await
}

#[tokio::test]
async fn a_rename_racing_a_delete_leaves_no_user() {
    let live = live(&[]).await;
    let mut accounts: Vec<TestUser> = Vec::new();
    for n in 0..8 {
        accounts.push(prove(&live.app, &format!("racer{n}@example.com"), None).await);
    }
    live.settled(accounts.len()).await;
    assert_eq!(live.users().await.len(), accounts.len());

    // Each account's rename and delete sent together; all accounts at once.
    let app = &live.app;
    let races = accounts.iter().enumerate().map(|(n, account)| async move {
        let name = format!("Racer {n}");
        let (renamed, deleted) = tokio::join!(set_name(app, account, &name), delete_account(app, account));
        (renamed.status().as_u16(), deleted.status().as_u16())
    });
    for (renamed, deleted) in futures::future::join_all(races).await {
        assert_eq!(deleted, 200);
        assert!(renamed == 200 || renamed == 401, "before the delete, or refused after it: {renamed}");
    }

    let rows = all_deleted(&live, accounts.len()).await;
    assert!(live.users().await.is_empty(), "no User left: {:#?}", live.made().await);
    // Per identity, nothing reached Twilio after its delete.
    let made = live.made().await;
    for account in &accounts {
        let calls: Vec<_> = made.iter().filter(|m| m.identity() == Some(account.email.as_str())).collect();
        assert!(calls.last().is_some_and(|m| m.is_delete()), "{}: {calls:?}", account.email);
        assert_eq!(calls.iter().filter(|m| m.is_delete()).count(), 1, "{calls:?}");
    }
    assert!(rows.iter().all(|r| r.failed_at.is_none()), "{rows:#?}");
    super::assert_names_no_one(&rows);
}

#[tokio::test]
async fn a_delete_while_the_rename_is_in_flight_follows_it_and_leaves_no_user() {
    let live = live(&[]).await;
    let ann = prove(&live.app, "ann@example.com", None).await;
    live.settled(1).await;
    // The rename is held at Twilio a while (then answered 200, as Twilio would).
    let path = format!("{}/", users_path());
    live.twilio.script(json!({"method": "POST", "path_prefix": path, "status": 200, "delay_ms": 2000})).await;

    rename(&live.app, &ann, "Ann Lee").await;
    live.wait_for("the rename, in flight", |made| made.len() == 2).await;
    delete(&live.app, &ann).await;
    let rows = live.calls().await;
    assert!(
        rows[1].call == "rename" && !rows[1].finished(),
        "the rename is in flight (the premise): {rows:#?}"
    );

    let rows = live.settled(3).await;
    assert_eq!(
        live.made().await,
        [
            create("ann@example.com", "ann", 201),
            rename_call("ann@example.com", "Ann Lee", 200),
            delete_call("ann@example.com", 204)
        ]
    );
    assert!(live.users().await.is_empty());
    let expected = [("create", "created"), ("rename", "renamed"), ("delete", "deleted")];
    assert_eq!(outcomes(&rows), expected.map(|(c, o)| (c.to_string(), o.to_string())));
}

#[tokio::test]
async fn two_renames_at_once_leave_twilio_with_the_name_stored_last() {
    let live = live(&[]).await;
    let ann = prove(&live.app, "ann@example.com", None).await;
    live.settled(1).await;
    let mut rows = 1;
    for round in 0..8 {
        let (a, b) = (format!("Ann {round} A"), format!("Ann {round} B"));
        let (first, second) = tokio::join!(set_name(&live.app, &ann, &a), set_name(&live.app, &ann, &b));
        assert_eq!((first.status().as_u16(), second.status().as_u16()), (200, 200));
        rows += 2;
        live.settled(rows).await;
        let stored = live.app.account_with(&ann.client).await.display_name;
        assert!(stored == a || stored == b, "{stored}");
        assert_eq!(
            live.named_users().await,
            [("ann@example.com".to_string(), Some(stored.clone()))],
            "round {round}: Twilio has the name the account has"
        );
    }
}
