//! Finished records are swept: used and expired links (`email_tokens::sweep`) and sent or
//! given-up mail (`outbox::sweep`), each a week after they finished. The clock is an argument.

use std::time::Duration;

use chatpass::db::{email_tokens, outbox};

use crate::common::fixtures::GOOD;
use crate::common::{self, TestApp};

const DAY: i64 = 24 * 3600;

#[tokio::test]
async fn used_and_expired_links_and_finished_mail_go_a_week_later_and_nothing_live_does() {
    let app = TestApp::spawn().await;
    let now = chatpass::mail::sender::unix_now();
    // A used verification link and its sent mail, the "confirmed" notice; a reset link (live
    // for an hour) and its mail.
    assert_eq!(app.register("ann@example.com", GOOD).await.status(), 200);
    assert_eq!(app.forgot_password("ann@example.com").await, 202);
    app.wait_for_mail("ann@example.com", 3).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while common::count(&app.pool, "SELECT COUNT(*) FROM outbox WHERE sent_at IS NOT NULL").await < 3 {
        assert!(std::time::Instant::now() < deadline, "the mails were never marked sent");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    // A link that never expires, a mail given up now, and one still waiting after a month.
    app.execute(&format!(
        "INSERT INTO email_tokens (token_hash, user_id, email, purpose, created_at, expires_at) \
         SELECT 'live', id, email, 'verify_email', {now}, 99999999999 FROM users"
    ))
    .await;
    for (created_at, next_attempt_at, failed_at) in
        [(now, now, now.to_string()), (now - 30 * DAY, 99999999999, "NULL".into())]
    {
        app.execute(&format!(
            "INSERT INTO outbox (user_id, kind, recipient, subject, body, created_at, next_attempt_at, failed_at) \
             SELECT id, 'verify', email, 's', '', {created_at}, {next_attempt_at}, {failed_at} FROM users"
        ))
        .await;
    }
    let tokens = || common::count(&app.pool, "SELECT COUNT(*) FROM email_tokens");
    let mails = || common::count(&app.pool, "SELECT COUNT(*) FROM outbox");
    assert_eq!((tokens().await, mails().await), (3, 5));

    // Six days on: the reset link has expired, but less than a week ago. All stay.
    assert_eq!(email_tokens::sweep(&app.pool, now + 6 * DAY).await.unwrap(), 0);
    assert_eq!(outbox::sweep(&app.pool, now + 6 * DAY).await.unwrap(), 0);
    assert_eq!((tokens().await, mails().await), (3, 5));

    // Eight days on: the used and the expired link go, and the finished mails.
    assert_eq!(email_tokens::sweep(&app.pool, now + 8 * DAY + 3600).await.unwrap(), 2);
    assert_eq!(outbox::sweep(&app.pool, now + 8 * DAY + 3600).await.unwrap(), 4);
    let kept = "SELECT COUNT(*) FROM email_tokens WHERE token_hash = 'live'";
    assert_eq!((tokens().await, common::count(&app.pool, kept).await), (1, 1), "the live link stays");
    let waiting = "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL";
    assert_eq!((mails().await, common::count(&app.pool, waiting).await), (1, 1), "mail still to send stays");
    // The account itself is untouched.
    assert_eq!(app.login("ann@example.com", GOOD).await.status(), 200);
}
