//! Behind an https public URL, mail waiting in the outbox holds no working link in clear:
//! its text is sealed at rest and opened only to deliver it (`mail::seal`).

use crate::common;

use std::time::Duration;

use chatpass::{db::Pool, mail::Seal};
use common::fixtures::{ACCOUNT_SID, API_KEY, GOOD, SERVICE_SID};
use common::{
    mail::{self, SmtpSink},
    TestApp,
};
use secrecy::SecretString;

const PUBLIC_URL: &str = "https://chat.example.com";
const SECRET: &str = "sealed-mail-test-secret";

/// An app behind https whose mail server (`port`) is down until a test starts one there.
fn behind_https(port: u16) -> common::TestAppBuilder {
    TestApp::builder()
        .env("CHATPASS_PUBLIC_URL", PUBLIC_URL)
        .env("CHATPASS_SMTP_URL", &format!("smtp://127.0.0.1:{port}"))
        .env("CHATPASS_MAIL_FROM", "chat@example.com")
        .env("CHATPASS_MAIL_RETRY_SECS", "1")
}

/// With a Twilio account: the outbox key comes from its API secret.
fn live(builder: common::TestAppBuilder, secret: &str) -> common::TestAppBuilder {
    builder
        .env("TWILIO_ACCOUNT_SID", ACCOUNT_SID)
        .env("TWILIO_API_KEY", API_KEY)
        .env("TWILIO_API_SECRET", secret)
        .env("TWILIO_CHAT_SERVICE_SID", SERVICE_SID)
}

/// POSTs a form from the public origin, as the app's own pages there do.
async fn post(app: &TestApp, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .header("origin", PUBLIC_URL)
        .header("accept", "application/json")
        .form(form)
        .send()
        .await
        .expect("request")
}

async fn sign_up(app: &TestApp, email: &str) {
    assert_eq!(post(app, "/api/signup", &[("email", email)]).await.status(), 202);
}

/// Every outbox row as (recipient, body, sent_at, failed_at, last_error), oldest first.
type Row = (String, String, Option<i64>, Option<i64>, Option<String>);

async fn rows(pool: &Pool) -> Vec<Row> {
    let sql = "SELECT recipient, body, sent_at, failed_at, last_error FROM outbox ORDER BY id";
    match pool {
        Pool::Sqlite(p) => sqlx::query_as(sql).fetch_all(p).await.unwrap(),
        Pool::Postgres(p) => sqlx::query_as(sql).fetch_all(p).await.unwrap(),
    }
}

/// Waits (up to 20 s) until `done` holds for the outbox's rows; returns them.
async fn wait_rows(pool: &Pool, what: &str, done: impl Fn(&[Row]) -> bool) -> Vec<Row> {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let rows = rows(pool).await;
        if done(&rows) {
            return rows;
        }
        assert!(std::time::Instant::now() < deadline, "{what} never happened: {rows:?}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Checks that the stored text `body` is sealed and holds nothing of the link.
fn assert_sealed(body: &str) {
    assert!(body.starts_with("sealed:v1:"), "{body}");
    for clear in ["token=", "/verify", "https://", "chatpass"] {
        assert!(!body.contains(clear), "{clear:?} in the stored text: {body}");
    }
}

/// Uses a delivered verification link: 200 and signed in.
async fn use_link(app: &TestApp, delivered: &str) {
    let token = mail::verify_token(delivered).unwrap_or_else(|| panic!("no link in:\n{delivered}"));
    assert!(mail::links(delivered)[0].starts_with("https://chat.example.com/verify?token="));
    let response = post(app, "/api/verify_email", &[("token", &token), ("password", GOOD)]).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap_or_default());
}

#[tokio::test]
async fn an_unsent_mail_holds_no_link_and_the_delivered_one_works() {
    let port = mail::free_port();
    let app = behind_https(port).spawn().await;
    sign_up(&app, "ann@example.com").await;
    // Sealed when queued, inside sign-up's transaction: the row is as written until the
    // mail server comes (each try fails and leaves the text alone).
    let queued = rows(&app.pool).await;
    assert_eq!(queued.len(), 1);
    assert_sealed(&queued[0].1);
    wait_rows(&app.pool, "a failed try", |r| r[0].4.is_some()).await;
    let stored = rows(&app.pool).await[0].1.clone();
    assert_eq!(stored, queued[0].1, "a failed try leaves the sealed text as it was");

    let sink = SmtpSink::start_on(port);
    let delivered = sink.wait_for(1, Duration::from_secs(30)).await.remove(0);
    let token = mail::verify_token(&delivered).unwrap();
    assert!(!stored.contains(&token), "the token is not in the stored text");
    wait_rows(&app.pool, "marked sent", |r| r[0].2.is_some()).await;
    use_link(&app, &delivered).await;
}

/// Queues a mail for `email` through an instance that cannot deliver it (its mail server
/// is down, its retry an hour away), sealed with that instance's key, and stops it.
async fn left_unsent_by_another_instance(url: &str, live_secret: Option<&str>, email: &str) {
    let builder =
        behind_https(mail::free_port()).env("DATABASE_URL", url).env("CHATPASS_MAIL_RETRY_SECS", "3600");
    let first = match live_secret {
        Some(secret) => live(builder, secret),
        None => builder,
    }
    .spawn()
    .await;
    sign_up(&first, email).await;
    let tried = wait_rows(&first.pool, "a failed try", |r| r[0].4.is_some()).await;
    assert_sealed(&tried[0].1);
    first.stop().await;
}

/// Makes every unsent row due now, behind the server's back.
async fn make_due(pool: &Pool) {
    let sql = "UPDATE outbox SET next_attempt_at = 0 WHERE sent_at IS NULL";
    match pool {
        Pool::Sqlite(p) => sqlx::query(sql).execute(p).await.map(drop).unwrap(),
        Pool::Postgres(p) => sqlx::query(sql).execute(p).await.map(drop).unwrap(),
    }
}

#[tokio::test]
async fn instances_with_the_same_api_secret_deliver_each_others_mail() {
    let (url, _dir) = common::database_of_its_own().await;
    left_unsent_by_another_instance(&url, Some(SECRET), "ann@example.com").await;
    let sink = SmtpSink::start();
    let app = live(behind_https(sink.port), SECRET).env("DATABASE_URL", &url).spawn().await;
    make_due(&app.pool).await;
    // A sign-up wakes the sender, which claims both rows.
    sign_up(&app, "bob@example.com").await;
    let mails = sink.wait_for(2, Duration::from_secs(30)).await;
    let ann = mails.iter().find(|m| mail::recipient(m).as_deref() == Some("ann@example.com"));
    wait_rows(&app.pool, "both marked sent", |r| r.iter().all(|row| row.2.is_some())).await;
    use_link(&app, ann.expect("ann's mail went out")).await;
}

#[tokio::test]
async fn in_demo_mode_mail_another_process_sealed_is_given_up_and_later_mail_goes_out() {
    let (url, _dir) = common::database_of_its_own().await;
    // Each demo-mode process has a random key of its own (a restart's too).
    left_unsent_by_another_instance(&url, None, "ann@example.com").await;
    let sink = SmtpSink::start();
    let app = behind_https(sink.port).env("DATABASE_URL", &url).spawn().await;
    make_due(&app.pool).await;
    sign_up(&app, "bob@example.com").await;
    let delivered = sink.wait_for(1, Duration::from_secs(30)).await.remove(0);
    assert_eq!(mail::recipient(&delivered).as_deref(), Some("bob@example.com"));
    let rows = wait_rows(&app.pool, "ann's given up", |r| r[0].3.is_some()).await;
    assert_eq!(rows[0].4.as_deref(), Some("sealed with another key"));
    assert_eq!(rows[0].1, "", "a given-up row keeps no text");
    use_link(&app, &delivered).await;
    assert_eq!(sink.mails().len(), 1, "nothing went to ann");
}

#[tokio::test]
async fn a_row_sealed_under_another_key_is_given_up_while_clear_and_later_rows_go_out() {
    let app = live(TestApp::builder().env("CHATPASS_PUBLIC_URL", PUBLIC_URL), SECRET).spawn().await;
    // Written behind the server's back, before any sign-up: one sealed under a former
    // secret, one in clear (as rows were before sealing).
    let foreign = Seal::from_secret(&SecretString::from("a former secret"), true);
    let insert = "INSERT INTO outbox (user_id, kind, recipient, subject, body, created_at, next_attempt_at) \
                  VALUES (NULL, 'verify', $1, 'A subject', $2, $3, $3)";
    let now = chatpass::mail::sender::unix_now();
    for (to, body) in [
        ("old@example.com", foreign.close("an old mail\r\n", "old@example.com")),
        ("clear@example.com", "a mail written in clear\r\n".to_string()),
    ] {
        match &app.pool {
            Pool::Sqlite(p) => sqlx::query(insert).bind(to).bind(body).bind(now).execute(p).await.map(drop),
            Pool::Postgres(p) => sqlx::query(insert).bind(to).bind(body).bind(now).execute(p).await.map(drop),
        }
        .unwrap();
    }
    sign_up(&app, "ann@example.com").await;
    let rows = wait_rows(&app.pool, "all three finished", |r| {
        r.len() == 3 && r.iter().all(|row| row.2.is_some() || row.3.is_some())
    })
    .await;
    assert!(rows[0].3.is_some() && rows[0].2.is_none(), "the foreign row is given up: {rows:?}");
    assert_eq!(rows[0].4.as_deref(), Some("sealed with another key"));
    assert!(rows[1].2.is_some() && rows[2].2.is_some(), "the others are sent: {rows:?}");
    assert!(app.mails_to("old@example.com").is_empty());
    assert_eq!(mail::body(&app.wait_for_mail("clear@example.com", 1).await), "a mail written in clear\r\n");
    use_link(&app, &app.wait_for_mail("ann@example.com", 1).await).await;
}
