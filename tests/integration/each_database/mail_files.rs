//! The file outbox (no `CHATPASS_SMTP_URL`) on disk: who may read it, what a planted
//! symlink gets, and that a deleted account's mail files go with it.

use std::{os::unix::fs::PermissionsExt, path::Path, time::Duration};

use crate::common::fixtures::GOOD;
use crate::common::{self, TestApp};

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path).unwrap().permissions().mode() & 0o7777
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    names
}

async fn user_id(app: &TestApp, email: &str) -> i64 {
    common::count(&app.pool, &format!("SELECT id FROM users WHERE email = '{email}'")).await
}

#[tokio::test]
async fn mail_files_are_the_servers_alone_and_never_written_through_a_planted_symlink() {
    let app = TestApp::spawn().await;
    let outbox = app.dir.path().join("outbox");
    assert_eq!(app.register("bob@example.com", GOOD).await.status(), 200);
    assert_eq!(mode(&outbox), 0o700);
    let bob = user_id(&app, "bob@example.com").await;

    // Two mails not due yet, one queued now and one two days ago; a symlink waits at each
    // one's file name, pointing at a file outside.
    let outside = app.dir.path().join("outside");
    std::fs::write(&outside, "original").unwrap();
    let now = chatpass::mail::sender::unix_now();
    let mut planted = Vec::new();
    for created_at in [now, now - 2 * 24 * 3600] {
        app.execute(&format!(
            "INSERT INTO outbox (user_id, kind, recipient, subject, body, created_at, next_attempt_at) \
             VALUES ({bob}, 'password_changed', 'bob@example.com', 's', 'b', {created_at}, 9999999999)"
        ))
        .await;
        let id = common::count(&app.pool, "SELECT MAX(id) FROM outbox").await;
        let link = outbox.join(format!("{id:08}-user{bob}-{created_at}.eml"));
        std::os::unix::fs::symlink(&outside, &link).unwrap();
        planted.push((id, link));
    }
    app.execute("UPDATE outbox SET next_attempt_at = 0 WHERE next_attempt_at = 9999999999").await;
    // A reset link wakes the sender: it takes all three.
    assert_eq!(app.forgot_password("bob@example.com").await, 202);
    app.wait_for_mail("bob@example.com", 2).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let tried =
        format!("SELECT COUNT(*) FROM outbox WHERE id >= {} AND last_error IS NOT NULL", planted[0].0);
    while common::count(&app.pool, &tried).await < 2 {
        assert!(std::time::Instant::now() < deadline, "the sender never tried the planted names");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }

    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "original", "nothing written through a link");
    for (_, link) in &planted {
        assert!(std::fs::symlink_metadata(link).unwrap().file_type().is_symlink(), "{link:?} left as it was");
    }
    let state = |id: i64| {
        format!(
            "SELECT COUNT(*) FROM outbox WHERE id = {id} AND sent_at IS NULL AND last_error LIKE '%exists%'"
        )
    };
    let retry = format!("{} AND failed_at IS NULL", state(planted[0].0));
    assert_eq!(common::count(&app.pool, &retry).await, 1, "the fresh mail waits for a retry");
    let failed = format!("{} AND failed_at IS NOT NULL", state(planted[1].0));
    assert_eq!(common::count(&app.pool, &failed).await, 1, "the day-old one is given up");
    for name in names(&outbox) {
        let path = outbox.join(&name);
        assert!(!name.ends_with(".part"), "no half-written file left: {name}");
        if !std::fs::symlink_metadata(&path).unwrap().file_type().is_symlink() {
            assert_eq!(mode(&path), 0o600, "{name}");
        }
    }
}

#[tokio::test]
async fn an_outbox_directory_open_to_others_is_closed_before_a_mail_goes_in() {
    let app = TestApp::spawn().await;
    let outbox = app.dir.path().join("outbox");
    std::fs::create_dir(&outbox).unwrap();
    std::fs::set_permissions(&outbox, std::fs::Permissions::from_mode(0o777)).unwrap();
    assert_eq!(app.signup("ann@example.com", GOOD).await.status(), 202);
    app.wait_for_mail("ann@example.com", 1).await;
    assert_eq!(mode(&outbox), 0o700);
}

#[tokio::test]
async fn a_deleted_accounts_mail_files_go_with_it() {
    let app = TestApp::spawn().await;
    let outbox = app.dir.path().join("outbox");
    assert_eq!(app.register("bob@example.com", GOOD).await.status(), 200);
    assert_eq!(app.register("ann@example.com", GOOD).await.status(), 200);
    assert_eq!(app.forgot_password("ann@example.com").await, 202);
    // The link, the "confirmed" notice, the reset link.
    app.wait_for_mail("ann@example.com", 3).await;
    let ann = user_id(&app, "ann@example.com").await;
    assert_eq!(app.mails_to("ann@example.com").len(), 3);

    let deleted = app.post_form("/api/delete_account", &[("password", GOOD)]).await;
    assert_eq!(deleted.status(), 200);
    assert!(app.mails_to("ann@example.com").is_empty(), "ann's mail files are gone: {:?}", names(&outbox));
    assert_eq!(app.mails_to("bob@example.com").len(), 2, "bob's stay");
    assert!(names(&outbox).iter().all(|n| !n.contains(&format!("-user{ann}-"))), "{:?}", names(&outbox));
}
