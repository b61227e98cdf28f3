//! Two instances on one PostgreSQL share the queue, as behind a load balancer: each
//! account's create reaches Twilio once, whichever instance's sender claims it.

use std::collections::BTreeMap;

use super::{live_builder, standin, Made, PATIENCE};
use crate::common::{self, fixtures::GOOD, twilio::wait_for_calls, Backend};

const ACCOUNTS: usize = 30;

#[tokio::test]
async fn two_instances_on_one_postgres_make_each_create_once() {
    // Instances share a queue only through PostgreSQL (SQLite is one process's file):
    // this runs in the PostgreSQL pass of each_database.
    if common::backend() != Backend::Postgres {
        return;
    }
    let twilio = standin().await;
    let database = common::postgres::fresh_database(&common::postgres::server_url()).await;
    // One mail directory: either instance's mail sender may send a sign-up's link.
    let mail = tempfile::tempdir().unwrap();
    let instance = || {
        live_builder(&twilio)
            .env("DATABASE_URL", &database)
            .env("CHATPASS_OUTBOX_DIR", &mail.path().display().to_string())
            .env("CHATPASS_SIGNUPS_PER_IP", "1000")
            .spawn()
    };
    let a = instance().await;
    let b = instance().await;

    let emails: Vec<String> = (0..ACCOUNTS).map(|n| format!("member{n:02}@example.com")).collect();
    let mut links = Vec::new();
    for (n, email) in emails.iter().enumerate() {
        let at = if n % 2 == 0 { &a } else { &b };
        links.push(at.signup_link(email).await);
    }
    // Every proof at once, half through each instance.
    let proofs = links.iter().enumerate().map(|(n, token)| {
        let at = if n % 2 == 0 { &b } else { &a };
        async move { at.verify_with(&common::client(), token, GOOD).await.status().as_u16() }
    });
    let statuses = futures::future::join_all(proofs).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");

    let rows = wait_for_calls(&a.pool, "every create, finished", PATIENCE, |rows| {
        rows.len() == ACCOUNTS && rows.iter().all(|r| r.finished())
    })
    .await;
    assert!(rows.iter().all(|r| r.outcome.as_deref() == Some("created") && r.attempts == 1), "{rows:#?}");

    let mut creates: BTreeMap<String, usize> = BTreeMap::new();
    for made in twilio.requests().await.iter().map(Made::from) {
        assert!(made.is_create(), "{made:?}");
        *creates.entry(made.identity().unwrap().to_string()).or_default() += 1;
    }
    let once: BTreeMap<String, usize> = emails.iter().map(|e| (e.clone(), 1)).collect();
    assert_eq!(creates, once, "each account's create reached Twilio exactly once");
    assert_eq!(twilio.users(common::fixtures::SERVICE_SID).await.len(), ACCOUNTS);
}
