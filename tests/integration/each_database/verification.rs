//! Proving an email before it becomes a chat identity, through the real router, a real
//! database and real mail (the file outbox, and a real SMTP server: aiosmtpd).

use crate::common;

use std::time::Duration;

use chatpass::auth::UserInfo;
use common::fixtures::{GOOD, OTHER};
use common::{
    mail::{self, SmtpSink},
    TestApp,
};
use serde_json::{json, Value};

/// The whole body as JSON: for answers a test pins exactly, field for field.
async fn json(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("chatpass_session=") || v.contains("session"))
        .map(|v| v.split(';').next().unwrap_or_default().to_string())
}

/// Uses a link choosing [`GOOD`] on its page.
async fn verify(app: &TestApp, client: &reqwest::Client, token: &str) -> reqwest::Response {
    app.verify_with(client, token, GOOD).await
}

async fn assert_already_confirmed(response: reqwest::Response) {
    assert_eq!(response.status(), 409);
    assert!(session_cookie(&response).is_none(), "a link for a proven email starts no session");
    assert_eq!(json(response).await, json!({"error": "already_confirmed"}));
}

async fn assert_bad_token(response: reqwest::Response) {
    assert_eq!(response.status(), 400);
    assert!(session_cookie(&response).is_none(), "a refused link starts no session");
    let (field, reason) = common::bad_input(response).await;
    assert_eq!(field, "token", "{reason}");
}

async fn verified_at(app: &TestApp, email: &str) -> Option<i64> {
    let sql = "SELECT email_verified_at FROM users WHERE email = $1";
    match &app.pool {
        chatpass::db::Pool::Sqlite(p) => sqlx::query_scalar(sql).bind(email).fetch_one(p).await.unwrap(),
        chatpass::db::Pool::Postgres(p) => sqlx::query_scalar(sql).bind(email).fetch_one(p).await.unwrap(),
    }
}

#[tokio::test]
async fn a_sign_up_for_an_existing_account_answers_alike_sets_no_cookie_and_mails_its_owner() {
    let app = TestApp::spawn().await;
    assert_eq!(app.register("ann@example.com", GOOD).await.status(), 200);
    let new = app
        .post_form_with(&common::client(), "/api/signup", &[("email", "bob@example.com"), ("password", GOOD)])
        .await;
    let existing = app
        .post_form_with(
            &common::client(),
            "/api/signup",
            &[("email", "ANN@example.com"), ("password", OTHER)],
        )
        .await;
    for response in [&new, &existing] {
        assert_eq!(response.status(), 202);
        assert!(session_cookie(response).is_none(), "no session before the email is proven");
    }
    assert_eq!(json(new).await, json(existing).await);
    assert_eq!(
        json(app.signup("carol@example.com", GOOD).await).await,
        json!({"status": "check_your_inbox"})
    );
    // The owner hears about it, with links to log in and to ask for a new password, and
    // nothing that works as a key.
    let notice = app.wait_for_mail("ann@example.com", 3).await;
    assert_eq!(
        mail::links(&notice),
        [format!("http://{}/login", app.addr), format!("http://{}/forgot", app.addr)]
    );
    assert!(mail::verify_token(&notice).is_none());
    // The owner's password is untouched; the one in the attempt does not log in.
    assert_eq!(app.login("ann@example.com", GOOD).await.status(), 200);
    assert_eq!(
        app.post_form_with(
            &common::client(),
            "/api/login",
            &[("email", "ann@example.com"), ("password", OTHER)]
        )
        .await
        .status(),
        401
    );
    // More attempts this hour: still 202, no second notice.
    for _ in 0..3 {
        assert_eq!(
            app.post_form_with(
                &common::client(),
                "/api/signup",
                &[("email", "ann@example.com"), ("password", OTHER)]
            )
            .await
            .status(),
            202
        );
    }
    assert_eq!(
        common::count(&app.pool, "SELECT COUNT(*) FROM outbox WHERE kind = 'signup_attempt'").await,
        1
    );
    assert_eq!(app.user_count().await, 3);
}

#[tokio::test]
async fn the_links_page_asks_for_the_password_and_its_post_proves_signs_in_and_lands_on_chat() {
    let app = TestApp::spawn().await;
    // The sign-up names only the address: a password sent with it is never stored, and
    // nobody can log in until the owner chooses one on the link's page.
    assert_eq!(app.signup("ann@example.com", GOOD).await.status(), 202);
    assert_eq!(app.login("ann@example.com", GOOD).await.status(), 401);
    let (_, stored) = app.stored_credentials().await;
    assert!(!stored.starts_with("$argon2"), "no password until the owner chooses one");
    assert_eq!(app.post_form("/api/chat_token", &[]).await.status(), 401);
    assert_eq!(verified_at(&app, "ann@example.com").await, None);

    let token = app.verification_token("ann@example.com", 1).await;
    // Opening the link (a GET, as a mail scanner would) shows the form and uses nothing.
    let page = app.get(&format!("/verify?token={token}")).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains(&token) && html.contains("name=\"password\""),
        "a form that posts the token and a password"
    );
    assert_eq!(verified_at(&app, "ann@example.com").await, None, "a GET proves nothing");

    // A weak password is 400 on its field and uses nothing: the link still works.
    let weak = app.verify_with(&app.client, &token, "password").await;
    assert_eq!(weak.status(), 400);
    assert_eq!(common::bad_input(weak).await.0, "password");
    let missing = app.post_form("/api/verify_email", &[("token", &token)]).await;
    assert_eq!(missing.status(), 400);
    assert_eq!(common::bad_input(missing).await.0, "password");
    assert_eq!(verified_at(&app, "ann@example.com").await, None);

    let response = verify(&app, &app.client, &token).await;
    assert_eq!(response.status(), 200);
    assert!(session_cookie(&response).is_some(), "verification sets the session cookie");
    assert_eq!(common::answer::<UserInfo>(response, 200).await.email, "ann@example.com");
    assert!(verified_at(&app, "ann@example.com").await.is_some());
    assert_eq!(app.chat_token().await.identity, "ann@example.com");
    assert_eq!(
        app.post_form_with(
            &common::client(),
            "/api/login",
            &[("email", "ann@example.com"), ("password", GOOD)]
        )
        .await
        .status(),
        200
    );
    // The owner is told, with the time.
    let notice = app.wait_for_mail("ann@example.com", 2).await;
    assert!(notice.contains("confirmed on a browser at 20") && notice.contains(" UTC"), "{notice}");

    // Used, and the email proven: "already confirmed, log in", never a session.
    assert_already_confirmed(verify(&app, &common::client(), &token).await).await;

    // Without JavaScript: the form post is redirected to the chat; a second one back to
    // the page, which says the email is confirmed.
    assert_eq!(app.signup("bob@example.com", GOOD).await.status(), 202);
    let bob = app.verification_token("bob@example.com", 1).await;
    let page = format!("/verify?token={bob}");
    let form = [("token", bob.as_str()), ("password", GOOD)];
    let response = app.post_plain_form("/api/verify_email", &page, &form).await;
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()["location"], "/chat");
    let response = app.post_plain_form("/api/verify_email", &page, &form).await;
    assert_eq!(response.status(), 302);
    let back = response.headers()["location"].to_str().unwrap().to_string();
    assert!(back.contains("/verify?") && back.contains("__err="), "{back}");
    let page = app.client.get(back).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("already confirmed"), "the page says the email is confirmed and offers to log in");
}

#[tokio::test]
async fn bad_tokens_are_400_on_the_token_field_and_change_nothing() {
    let app = TestApp::spawn().await;
    assert_eq!(app.signup("ann@example.com", GOOD).await.status(), 202);
    let token = app.verification_token("ann@example.com", 1).await;
    let mut tampered = token.clone().into_bytes();
    tampered[10] = if tampered[10] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let ten_kb = "A".repeat(10 * 1024);
    let unknown = "A".repeat(43);
    let cases = [
        String::new(),
        token[..20].to_string(),
        token[..42].to_string(),
        format!("{token}x"),
        ten_kb,
        format!("{}\0", &token[..42]),
        format!("{}\u{e9}", &token[..41]),
        format!("{}\u{202e}", &token[..40]),
        tampered,
        unknown,
        "' OR 1=1 --".to_string(),
    ];
    for bad in &cases {
        assert_bad_token(verify(&app, &common::client(), bad).await).await;
    }
    assert_bad_token(app.post_form_with(&common::client(), "/api/verify_email", &[("password", GOOD)]).await)
        .await;
    assert_eq!(verified_at(&app, "ann@example.com").await, None);
    assert_eq!(app.session_count().await, 0);
    // And the real one still works after all that.
    assert_eq!(verify(&app, &common::client(), &token).await.status(), 200);
}

#[tokio::test]
async fn expired_links_are_refused_by_the_clock_they_are_given() {
    use chatpass::{db::email_tokens, mail::messages::VERIFY_TTL_SECS};
    let app = TestApp::spawn().await;
    assert_eq!(app.signup("ann@example.com", GOOD).await.status(), 202);
    let token = app.verification_token("ann@example.com", 1).await;
    let hash = email_tokens::parse(&token).unwrap();
    let created: i64 = common::count(&app.pool, "SELECT created_at FROM email_tokens").await;
    // The storage takes the time as an argument: one second late is refused...
    let mut tx = app.pool.begin().await.unwrap();
    let late =
        email_tokens::use_once(&mut tx, &hash, email_tokens::Purpose::VerifyEmail, created + VERIFY_TTL_SECS)
            .await;
    assert!(late.unwrap().is_none(), "24 h after it was made, the link is dead");
    // ...one second early works (rolled back: the test only asks).
    let early = email_tokens::use_once(
        &mut tx,
        &hash,
        email_tokens::Purpose::VerifyEmail,
        created + VERIFY_TTL_SECS - 1,
    )
    .await;
    assert_eq!(early.unwrap().expect("still valid").email, "ann@example.com");
    drop(tx);
    // Over HTTP, with the stored expiry in the past.
    app.execute("UPDATE email_tokens SET expires_at = created_at - 1").await;
    assert_bad_token(verify(&app, &app.client, &token).await).await;
    assert_eq!(verified_at(&app, "ann@example.com").await, None);
}

#[tokio::test]
async fn a_token_bound_to_another_email_or_user_proves_nothing() {
    let app = TestApp::spawn().await;
    assert_eq!(app.signup("ann@example.com", GOOD).await.status(), 202);
    assert_eq!(app.signup("bob@example.com", GOOD).await.status(), 202);
    let ann = app.verification_token("ann@example.com", 1).await;
    // The row says Ann's id but another address: the link was not sent to Ann's email.
    app.execute("UPDATE email_tokens SET email = 'mallory@example.com' WHERE email = 'ann@example.com'")
        .await;
    assert_bad_token(verify(&app, &common::client(), &ann).await).await;
    assert_eq!(verified_at(&app, "ann@example.com").await, None);
    // Bob's link in someone else's browser proves Bob's address and signs that browser in as Bob.
    let bob = app.verification_token("bob@example.com", 1).await;
    let elsewhere = common::client();
    assert_eq!(verify(&app, &elsewhere, &bob).await.status(), 200);
    assert_eq!(app.whoami_with(&elsewhere).await.as_deref(), Some("bob@example.com"));
    assert_eq!(verified_at(&app, "ann@example.com").await, None, "Ann is not proven by Bob's link");
}

#[tokio::test]
async fn eight_concurrent_uses_of_one_link_with_different_passwords_prove_once_with_one_password() {
    let app = TestApp::spawn().await;
    assert_eq!(app.signup("race@example.com", GOOD).await.status(), 202);
    let token = app.verification_token("race@example.com", 1).await;
    let passwords: Vec<String> = (0..8).map(|i| format!("racing passphrase number {i}")).collect();
    let forms = passwords.iter().map(|p| vec![("token", token.clone()), ("password", p.clone())]).collect();
    let statuses = app.post_concurrently("/api/verify_email", forms).await;
    assert_eq!(statuses, [200, 409, 409, 409, 409, 409, 409, 409]);
    assert_eq!(app.session_count().await, 1);
    // Exactly one of the eight passwords is the account's.
    let mut working = 0;
    for password in &passwords {
        let form = [("email", "race@example.com"), ("password", password.as_str())];
        if app.post_form_with(&common::client(), "/api/login", &form).await.status() == 200 {
            working += 1;
        }
    }
    assert_eq!(working, 1);
}

#[tokio::test]
async fn verification_posted_cross_site_is_403_and_uses_nothing() {
    let app = TestApp::spawn().await;
    assert_eq!(app.signup("ann@example.com", GOOD).await.status(), 202);
    let token = app.verification_token("ann@example.com", 1).await;
    let response = app
        .client
        .post(app.url("/api/verify_email"))
        .header("origin", "https://evil.example")
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(verified_at(&app, "ann@example.com").await, None);
    assert_eq!(
        verify(&app, &app.client, &token).await.status(),
        200,
        "the link still works from our own page"
    );
}

#[tokio::test]
async fn an_unverified_user_can_ask_for_the_link_again_until_429() {
    let app = TestApp::spawn().await;
    assert_eq!(app.post_form("/api/resend_verification", &[]).await.status(), 401);
    // Only an account from before the owner chose the password can be signed in unproven.
    app.legacy_account("ann@example.com", GOOD).await;
    assert_eq!(app.login("ann@example.com", GOOD).await.status(), 200);
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..30 {
        let response = app.post_form("/api/resend_verification", &[]).await;
        statuses.push(response.status().as_u16());
        if response.status() == 429 {
            retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
        } else {
            assert_eq!(json(response).await, json!({"status": "check_your_inbox"}));
        }
    }
    let sent = statuses.iter().filter(|s| **s == 202).count();
    assert_eq!(sent, 5, "the default budget per account: {statuses:?}");
    assert!(statuses[sent..].iter().all(|s| *s == 429), "{statuses:?}");
    assert!(retry_after.unwrap().parse::<u64>().unwrap() >= 1);
    // Whatever is asked, an address gets at most three links an hour.
    let newest = app.wait_for_mail("ann@example.com", 3).await;
    assert_eq!(common::count(&app.pool, "SELECT COUNT(*) FROM outbox WHERE kind = 'verify'").await, 3);
    let newest = mail::verify_token(&newest).unwrap();
    assert_eq!(verify(&app, &app.client, &newest).await.status(), 200);
    let response = app.post_form("/api/resend_verification", &[]).await;
    assert_eq!(json(response).await, json!({"status": "already_verified"}));
}

#[tokio::test]
async fn with_verification_off_sign_up_signs_in_and_tokens_need_no_proof() {
    let app = TestApp::builder().env("CHATPASS_EMAIL_VERIFICATION", "off").spawn().await;
    let response = app.signup("ann@example.com", GOOD).await;
    assert_eq!(response.status(), 200);
    assert_eq!(json(response).await, json!({"status": "signed_in"}));
    assert_eq!(app.post_form("/api/chat_token", &[]).await.status(), 200);
    assert!(app.mails_to("ann@example.com").is_empty());
}

#[tokio::test]
async fn a_user_id_identity_keeps_the_email_out_of_the_token() {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
    let app = TestApp::builder().env("CHATPASS_CHAT_IDENTITY", "user-id").spawn().await;
    assert_eq!(app.register("ann@example.com", GOOD).await.status(), 200);
    let body = app.chat_token().await;
    let identity = body.identity.clone();
    assert_eq!(identity.len(), 32);
    assert!(identity.bytes().all(|b| b.is_ascii_hexdigit()), "{identity}");
    assert_eq!(body.email, "ann@example.com", "the page shows the email from the account");
    let payload = URL_SAFE_NO_PAD.decode(body.token.split('.').nth(1).unwrap()).unwrap();
    let payload = String::from_utf8(payload).unwrap();
    assert!(!payload.contains("ann@example.com") && payload.contains(&identity), "{payload}");
    // Stable: the next token, and one after a new login, carry the same identity.
    app.post_form("/api/logout", &[]).await;
    assert_eq!(app.login("ann@example.com", GOOD).await.status(), 200);
    assert_eq!(app.chat_token().await.identity, identity);
}

#[tokio::test]
async fn mail_goes_out_over_smtp_with_one_link_on_one_line() {
    let sink = SmtpSink::start();
    let app = TestApp::builder()
        .env("CHATPASS_SMTP_URL", &sink.url())
        .env("CHATPASS_MAIL_FROM", "Chat Team <chat@example.com>")
        .spawn()
        .await;
    assert_eq!(app.signup("Ann@Example.com", GOOD).await.status(), 202);
    let mails = sink.wait_for(1, Duration::from_secs(20)).await;
    let mail = &mails[0];
    assert_eq!(mail::recipient(mail).as_deref(), Some("ann@example.com"));
    assert_eq!(mail::header(mail, "X-Envelope-To").as_deref(), Some("ann@example.com"));
    assert!(mail::header(mail, "From").unwrap().contains("<chat@example.com>"));
    assert!(mail::header(mail, "Message-ID").is_some() && mail::header(mail, "Date").is_some());
    assert!(mail::header(mail, "Content-Type").unwrap().starts_with("text/plain"));
    let links = mail::links(mail);
    assert_eq!(links.len(), 1, "{mail}");
    let token = mail::verify_token(mail).unwrap();
    assert_eq!(verify(&app, &app.client, &token).await.status(), 200);
    assert!(!app.dir.path().join("outbox").exists(), "with SMTP set, no mail files");
}

#[tokio::test]
async fn the_smtp_server_down_during_sign_up_loses_nothing_and_sends_once_when_back() {
    let port = mail::free_port();
    let app = TestApp::builder()
        .env("CHATPASS_SMTP_URL", &format!("smtp://127.0.0.1:{port}"))
        .env("CHATPASS_MAIL_FROM", "chat@example.com")
        .env("CHATPASS_MAIL_RETRY_SECS", "1")
        .spawn()
        .await;
    let started = std::time::Instant::now();
    assert_eq!(app.signup("ann@example.com", GOOD).await.status(), 202);
    assert!(started.elapsed() < Duration::from_secs(5), "sign-up does not wait for the mail server");
    // The sender has tried and failed at least once: the row waits.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while common::count(
        &app.pool,
        "SELECT COUNT(*) FROM outbox WHERE attempts >= 1 AND last_error IS NOT NULL",
    )
    .await
        == 0
    {
        assert!(std::time::Instant::now() < deadline, "the sender never tried");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(common::count(&app.pool, "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL").await, 1);

    let sink = SmtpSink::start_on(port);
    let mails = sink.wait_for(1, Duration::from_secs(30)).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while common::count(&app.pool, "SELECT COUNT(*) FROM outbox WHERE sent_at IS NOT NULL").await != 1 {
        assert!(std::time::Instant::now() < deadline, "the mail was never marked sent");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    // Marked sent: nothing can send it again. Exactly one arrived.
    assert_eq!(sink.mails().len(), 1, "{mails:?}");
    assert_eq!(
        common::count(&app.pool, "SELECT COUNT(*) FROM outbox WHERE body <> ''").await,
        0,
        "sent text is not kept"
    );
    let token = mail::verify_token(&sink.mails()[0]).unwrap();
    assert_eq!(verify(&app, &app.client, &token).await.status(), 200);
}

#[tokio::test]
async fn thirty_concurrent_resends_from_one_session_send_exactly_the_budget() {
    let app = TestApp::spawn().await;
    app.legacy_account("ann@example.com", GOOD).await;
    assert_eq!(app.login("ann@example.com", GOOD).await.status(), 200);
    let requests = (0..30).map(|_| app.post_form("/api/resend_verification", &[]));
    let mut statuses: Vec<u16> =
        futures::future::join_all(requests).await.into_iter().map(|r| r.status().as_u16()).collect();
    statuses.sort();
    assert_eq!(statuses.iter().filter(|s| **s == 202).count(), 5, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 25, "{statuses:?}");
    let links = common::count(&app.pool, "SELECT COUNT(*) FROM email_tokens").await;
    assert_eq!(links, 3, "three links an hour, no matter how the requests interleave");
}

#[tokio::test]
async fn an_outbox_directory_that_cannot_be_written_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("blocker");
    std::fs::write(&blocker, "a file where the outbox's parent directory should be").unwrap();
    let outbox = blocker.join("outbox");
    let app = TestApp::builder()
        .env("CHATPASS_OUTBOX_DIR", &outbox.display().to_string())
        .env("CHATPASS_MAIL_RETRY_SECS", "1")
        .spawn()
        .await;
    assert_eq!(
        app.signup("ann@example.com", GOOD).await.status(),
        202,
        "sign-up does not depend on the mail"
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while common::count(&app.pool, "SELECT COUNT(*) FROM outbox WHERE last_error IS NOT NULL").await == 0 {
        assert!(std::time::Instant::now() < deadline, "the sender never tried");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(common::count(&app.pool, "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL").await, 1);
    // The directory becomes writable: the waiting mail is written, once.
    std::fs::remove_file(&blocker).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while mail::read_dir(&outbox).is_empty() {
        assert!(std::time::Instant::now() < deadline, "the mail never reached the outbox directory");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(mail::read_dir(&outbox).len(), 1);
    let token = mail::verify_token(&mail::read_dir(&outbox)[0]).unwrap();
    assert_eq!(verify(&app, &app.client, &token).await.status(), 200);
}

/// The page behind the link reads `token` and `__err` from the URL: garbage there renders
/// a page, markup stays text, and text from the URL never becomes the page's message.
#[tokio::test]
async fn garbage_in_the_verify_page_query_renders_a_page_and_stays_text() {
    let app = TestApp::spawn().await;
    let script = "\"'><script>alert(1)</script>";
    let long = "x".repeat(4000);
    let cases: Vec<Vec<(&str, &str)>> = vec![
        vec![],
        vec![("token", "")],
        vec![("token", script)],
        vec![("token", long.as_str())],
        vec![("token", "\u{0}\u{feff}\u{202e}caf\u{e9}")],
        vec![("token", "a"), ("token", "b")],
        vec![("__path", "/api/verify_email"), ("__err", "Your account is locked, call +1 555 0100")],
        vec![("__err", script)],
    ];
    for query in &cases {
        let response = app.client.get(app.url("/verify")).query(query).send().await.unwrap();
        assert_eq!(response.status(), 200, "{query:?}");
        let html = response.text().await.unwrap();
        assert!(!html.contains("<script>alert(1)"), "{query:?}: markup stays text");
        assert!(!html.contains("call +1 555"), "{query:?}: the URL's text is not shown as a message");
    }
    let html = app
        .client
        .get(app.url("/verify"))
        .query(&[("token", script)])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("alert(1)"), "the token reaches the form (escaped), or this proves nothing");
    for sent in ["1", "0", script, long.as_str()] {
        let response = app.client.get(app.url("/signup")).query(&[("sent", sent)]).send().await.unwrap();
        assert_eq!(response.status(), 200, "sent={sent:?}");
        assert!(!response.text().await.unwrap().contains("<script>alert(1)"));
    }
    assert_eq!(app.user_count().await, 0);
}
