//! The account lifecycle through the real router, a real database and the file outbox:
//! a forgotten password, a password changed on the account page, an account deleted.

use crate::common;

use chatpass::error::AppError;
use common::fixtures::{GOOD, OTHER};
use common::{mail, TestApp};
use serde_json::{json, Value};

const THIRD: &str = "yet one more decent passphrase";

/// The whole body as JSON: for answers a test pins exactly, field for field.
async fn json(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

fn sets_cookie(response: &reqwest::Response) -> bool {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .any(|v| v.to_str().unwrap_or("").starts_with("chatpass_session="))
}

/// The session cookie a response sets, `name=value`.
fn cookie_set(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("chatpass_session="))
        .map(|v| v.split(';').next().unwrap_or_default().to_string())
}

async fn assert_field(response: reqwest::Response, status: u16, field: &str) {
    assert_eq!(response.status(), status);
    let (named, reason) = common::bad_input(response).await;
    assert_eq!(named, field, "{reason}");
}

async fn forgot(app: &TestApp, email: &str) -> reqwest::Response {
    app.post_form_with(&common::client(), "/api/forgot_password", &[("email", email)]).await
}

/// Asks for a reset link for `email` and returns it, once its mail is written (other
/// mails, such as the "confirmed" notice, may arrive before or after it).
async fn reset_link(app: &TestApp, email: &str) -> String {
    let links =
        |app: &TestApp| app.mails_to(email).iter().filter_map(|m| mail::reset_token(m)).collect::<Vec<_>>();
    let before = links(app).len();
    assert_eq!(forgot(app, email).await.status(), 202);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        if let Some(link) = links(app).get(before) {
            return link.clone();
        }
        assert!(std::time::Instant::now() < deadline, "no new /reset link for {email}");
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

async fn reset(app: &TestApp, client: &reqwest::Client, token: &str, password: &str) -> reqwest::Response {
    app.post_form_with(client, "/api/reset_password", &[("token", token), ("password", password)]).await
}

async fn change(app: &TestApp, client: &reqwest::Client, current: &str, new: &str) -> reqwest::Response {
    app.post_form_with(
        client,
        "/api/change_password",
        &[("current_password", current), ("new_password", new)],
    )
    .await
}

async fn stored_hash(app: &TestApp) -> String {
    app.stored_credentials().await.1
}

async fn kind_count(app: &TestApp, kind: &str) -> i64 {
    common::count(&app.pool, &format!("SELECT COUNT(*) FROM outbox WHERE kind = '{kind}'")).await
}

async fn chat_token_status(app: &TestApp, client: &reqwest::Client) -> u16 {
    app.post_form_with(client, "/api/chat_token", &[]).await.status().as_u16()
}

#[tokio::test]
async fn forgot_password_answers_alike_and_mails_one_link_only_to_a_known_address() {
    let app = TestApp::spawn().await;
    assert_eq!(app.register("ann@example.com", GOOD).await.status(), 200);
    let unknown = forgot(&app, "nobody@example.com").await;
    let known = forgot(&app, "ANN@example.com").await;
    for response in [&unknown, &known] {
        assert_eq!(response.status(), 202);
        assert!(!sets_cookie(response), "asking for a link starts no session");
    }
    assert_eq!(json(known).await, json(unknown).await);
    // After the link and the "confirmed" notice.
    let mail = app.wait_for_mail("ann@example.com", 3).await;
    assert!(mail::subject(&mail).contains("new chatpass password"), "{mail}");
    let links = mail::links(&mail);
    assert_eq!(links.len(), 1, "{links:?}");
    assert!(links[0].starts_with(&format!("http://{}/reset?token=", app.addr)), "{links:?}");
    assert_eq!(mail::reset_token(&mail).unwrap().len(), 43, "256 bits, base64url");
    assert!(app.mails_to("nobody@example.com").is_empty());
    // Only its SHA-256 is stored.
    let token = mail::reset_token(&mail).unwrap();
    let stored = common::count(
        &app.pool,
        &format!("SELECT COUNT(*) FROM email_tokens WHERE token_hash = '{token}' OR email_tokens.email = '{token}'"),
    )
    .await;
    assert_eq!(stored, 0);
    // Bad addresses are 400 before anything else.
    for bad in ["", "not an email", "ann@", "\u{0}@example.com"] {
        assert_field(forgot(&app, bad).await, 400, "email").await;
    }
    // Without JavaScript the form comes back to its page saying "check your inbox".
    let plain = app.post_plain_form("/api/forgot_password", "/forgot", &[("email", "ann@example.com")]).await;
    assert_eq!(plain.status(), 302);
    assert_eq!(plain.headers()["location"], "/forgot?sent=1");
    let page = app.get("/forgot?sent=1").await.text().await.unwrap();
    assert!(page.contains("data-testid=\"check-inbox\""));
}

#[tokio::test]
async fn a_reset_link_sets_the_password_once_proves_the_email_ends_every_session_and_signs_in() {
    let app = TestApp::spawn().await;
    // An account nobody has proven, signed in elsewhere with its password.
    app.legacy_account("ann@example.com", GOOD).await;
    let elsewhere = app.logged_in_browser("ann@example.com", GOOD, None).await;
    let token = reset_link(&app, "ann@example.com").await;
    let before = stored_hash(&app).await;

    let browser = common::client();
    let response = reset(&app, &browser, &token, OTHER).await;
    assert_eq!(response.status(), 200);
    assert!(sets_cookie(&response), "this browser is signed in");
    assert_eq!(json(response).await, json!({"email": "ann@example.com", "email_verified": true}));
    assert_ne!(stored_hash(&app).await, before);
    assert_eq!(app.whoami_with(&browser).await.as_deref(), Some("ann@example.com"));
    assert_eq!(chat_token_status(&app, &browser).await, 200, "the mail proved the address");
    assert_eq!(app.whoami_with(&elsewhere).await, None, "every other session ended");
    assert_eq!(chat_token_status(&app, &elsewhere).await, 401);
    assert_eq!(app.login("ann@example.com", GOOD).await.status(), 401);
    assert_eq!(app.login("ann@example.com", OTHER).await.status(), 200);
    // Once only.
    assert_field(reset(&app, &common::client(), &token, THIRD).await, 400, "token").await;
    assert_eq!(app.login("ann@example.com", OTHER).await.status(), 200);
    // The owner is told.
    let notice = app.wait_for_mail("ann@example.com", 2).await;
    assert!(mail::subject(&notice).contains("password was changed"), "{notice}");
    assert!(mail::reset_token(&notice).is_none() && mail::verify_token(&notice).is_none());
}

#[tokio::test]
async fn bad_reset_links_are_400_on_the_token_field_and_change_nothing() {
    let app = TestApp::spawn().await;
    assert_eq!(app.register("ann@example.com", GOOD).await.status(), 200);
    assert_eq!(app.register("bob@example.com", GOOD).await.status(), 200);
    let token = reset_link(&app, "ann@example.com").await;
    let before = stored_hash(&app).await;
    let huge = "A".repeat(10_000);
    let cases = [
        token[..42].to_string(),
        format!("{token}A"),
        huge,
        format!("{}\u{0}", &token[..42]),
        String::new(),
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".to_string(),
        format!("{}é", &token[..41]),
    ];
    for bad in &cases {
        assert_field(reset(&app, &common::client(), bad, OTHER).await, 400, "token").await;
    }
    // A verification link is not a reset link.
    assert_eq!(app.signup("carol@example.com", GOOD).await.status(), 202);
    let verify = app.verification_token("carol@example.com", 1).await;
    assert_field(reset(&app, &common::client(), &verify, OTHER).await, 400, "token").await;
    // A weak or common new password: 400 on the password, and the link still works.
    for weak in ["short", "password1", "12345678"] {
        assert_field(reset(&app, &common::client(), &token, weak).await, 400, "password").await;
    }
    assert_eq!(stored_hash(&app).await, before, "nothing changed");
    // Expired (the stored expiry in the past): refused, nothing changed.
    app.execute("UPDATE email_tokens SET expires_at = created_at - 1 WHERE purpose = 'reset_password'").await;
    assert_field(reset(&app, &common::client(), &token, OTHER).await, 400, "token").await;
    assert_eq!(app.login("ann@example.com", GOOD).await.status(), 200);
    assert_eq!(app.login("bob@example.com", GOOD).await.status(), 200, "bob untouched");
}

#[tokio::test]
async fn a_password_change_voids_reset_links_asked_for_before_it() {
    let app = TestApp::spawn().await;
    assert_eq!(app.register("ann@example.com", GOOD).await.status(), 200);
    let first = reset_link(&app, "ann@example.com").await;
    let second = reset_link(&app, "ann@example.com").await;
    // The second link is used: the first is void now.
    assert_eq!(reset(&app, &common::client(), &second, OTHER).await.status(), 200);
    assert_field(reset(&app, &common::client(), &first, THIRD).await, 400, "token").await;
    // A link asked for before a change on the account page is void too.
    let third = reset_link(&app, "ann@example.com").await;
    let me = app.logged_in_browser("ann@example.com", OTHER, None).await;
    assert_eq!(change(&app, &me, OTHER, GOOD).await.status(), 200);
    assert_field(reset(&app, &common::client(), &third, THIRD).await, 400, "token").await;
    assert_eq!(app.login("ann@example.com", GOOD).await.status(), 200);
}

#[tokio::test]
async fn a_reset_posted_cross_site_is_403_and_uses_nothing() {
    let app = TestApp::spawn().await;
    assert_eq!(app.register("ann@example.com", GOOD).await.status(), 200);
    let token = reset_link(&app, "ann@example.com").await;
    let response = common::client()
        .post(app.url("/api/reset_password"))
        .header("origin", "https://evil.example")
        .form(&[("token", token.as_str()), ("password", OTHER)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(app.login("ann@example.com", GOOD).await.status(), 200);
    assert_eq!(reset(&app, &common::client(), &token, OTHER).await.status(), 200, "the link still works");
}

#[tokio::test]
async fn thirty_forgot_requests_for_one_email_bring_429_and_three_mails_at_most() {
    let app = TestApp::spawn().await;
    assert_eq!(app.register("ann@example.com", GOOD).await.status(), 200);
    let forms = (0..30).map(|_| vec![("email", "ann@example.com".to_string())]).collect();
    let statuses = app.post_concurrently("/api/forgot_password", forms).await;
    let accepted = statuses.iter().filter(|s| **s == 202).count();
    assert_eq!(accepted, 10, "the default budget per address: {statuses:?}");
    assert!(statuses.iter().all(|s| *s == 202 || *s == 429), "{statuses:?}");
    // Of the ten accepted, three mails an hour per account; the fourth is never queued.
    app.wait_for_mail("ann@example.com", 5).await;
    assert_eq!(kind_count(&app, "reset_password").await, 3);
    let limited = forgot(&app, "ann@example.com").await;
    assert_eq!(limited.status(), 429);
    assert!(limited.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn change_password_keeps_this_session_under_a_new_id_ends_the_others_and_mails_a_notice() {
    let app = TestApp::spawn().await;
    let me = app.proven_user("ann@example.com").await.client;
    let other = app.logged_in_browser("ann@example.com", GOOD, None).await;
    let before = stored_hash(&app).await;

    // Bad input first: nothing changes.
    assert_field(change(&app, &me, GOOD, GOOD).await, 400, "new_password").await;
    assert_field(change(&app, &me, GOOD, "password1").await, 400, "new_password").await;
    assert_field(change(&app, &me, GOOD, "short").await, 400, "new_password").await;
    assert_field(change(&app, &me, "", OTHER).await, 400, "current_password").await;
    assert_eq!(change(&app, &common::client(), GOOD, OTHER).await.status(), 401, "signed out");
    assert_eq!(stored_hash(&app).await, before);
    assert_eq!(app.whoami_with(&other).await.as_deref(), Some("ann@example.com"));

    let response = change(&app, &me, GOOD, OTHER).await;
    assert_eq!(response.status(), 200);
    assert!(cookie_set(&response).is_some(), "this session goes on under a new id");
    assert_eq!(app.whoami_with(&me).await.as_deref(), Some("ann@example.com"));
    assert_eq!(chat_token_status(&app, &me).await, 200);
    assert_eq!(app.whoami_with(&other).await, None, "the other session ended");
    assert_eq!(app.session_count().await, 1);
    assert_eq!(app.login("ann@example.com", GOOD).await.status(), 401);
    assert_eq!(app.login("ann@example.com", OTHER).await.status(), 200);
    let notice = app.wait_for_mail("ann@example.com", 3).await;
    assert!(mail::subject(&notice).contains("password was changed"), "{notice}");
}

#[tokio::test]
async fn a_wrong_current_password_is_401_and_counted_by_the_login_limits() {
    let app = TestApp::builder().env("CHATPASS_LOGIN_FAILURES_PER_ACCOUNT", "3").spawn().await;
    assert_eq!(app.register("ann@example.com", GOOD).await.status(), 200);
    let before = stored_hash(&app).await;
    for i in 0..3 {
        let response = change(&app, &app.client, &format!("wrong guess {i}"), OTHER).await;
        assert_eq!(response.status(), 401);
        assert_eq!(common::app_error(response).await, AppError::BadCredentials);
    }
    let limited = change(&app, &app.client, GOOD, OTHER).await;
    assert_eq!(limited.status(), 429, "the budget is spent, even for the right password");
    assert!(limited.headers().contains_key("retry-after"));
    assert_eq!(app.login("ann@example.com", GOOD).await.status(), 429, "one budget with logins");
    assert_eq!(stored_hash(&app).await, before);
}

#[tokio::test]
async fn of_two_concurrent_password_changes_one_wins_and_sessions_agree() {
    let app = TestApp::spawn().await;
    assert_eq!(app.register("ann@example.com", GOOD).await.status(), 200);
    let (a, b) = (common::client(), common::client());
    for client in [&a, &b] {
        let login =
            app.post_form_with(client, "/api/login", &[("email", "ann@example.com"), ("password", GOOD)]);
        assert_eq!(login.await.status(), 200);
    }
    let (to_a, to_b) = tokio::join!(change(&app, &a, GOOD, OTHER), change(&app, &b, GOOD, THIRD));
    let mut statuses = [to_a.status().as_u16(), to_b.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 401]);
    let (winner, loser, password, lost) =
        if to_a.status() == 200 { (&a, &b, OTHER, THIRD) } else { (&b, &a, THIRD, OTHER) };
    assert_eq!(app.whoami_with(winner).await.as_deref(), Some("ann@example.com"));
    assert_eq!(app.whoami_with(loser).await, None);
    assert_eq!(app.whoami().await, None, "the session from before ended too");
    assert_eq!(app.session_count().await, 1);
    assert_eq!(app.login("ann@example.com", lost).await.status(), 401);
    assert_eq!(app.login("ann@example.com", password).await.status(), 200);
}

#[tokio::test]
async fn delete_account_with_a_wrong_password_is_401_and_deletes_nothing() {
    let app = TestApp::spawn().await;
    assert_eq!(app.register("ann@example.com", GOOD).await.status(), 200);
    for password in ["wrong password", OTHER] {
        let response = app.post_form("/api/delete_account", &[("password", password)]).await;
        assert_eq!(response.status(), 401);
    }
    assert_field(app.post_form("/api/delete_account", &[("password", "")]).await, 400, "password").await;
    let stranger = common::client();
    let signed_out = app.post_form_with(&stranger, "/api/delete_account", &[("password", GOOD)]);
    assert_eq!(signed_out.await.status(), 401);
    assert_eq!(app.user_count().await, 1);
    assert_eq!(app.whoami().await.as_deref(), Some("ann@example.com"));
    assert_eq!(chat_token_status(&app, &app.client).await, 200);
}

#[tokio::test]
async fn delete_account_removes_the_user_sessions_links_and_unsent_mail_and_the_email_can_sign_up_again() {
    let app = TestApp::spawn().await;
    assert_eq!(app.register("bob@example.com", GOOD).await.status(), 200);
    assert_eq!(app.register("ann@example.com", GOOD).await.status(), 200);
    let other = app.logged_in_browser("ann@example.com", GOOD, None).await;
    reset_link(&app, "ann@example.com").await;
    assert_eq!(app.whoami().await.as_deref(), Some("ann@example.com"));
    // A mail that has not gone out yet (due in a day).
    app.execute(
        "INSERT INTO outbox (user_id, kind, recipient, subject, body, created_at, next_attempt_at) \
         SELECT id, 'reset_password', email, 's', 'b', 0, 9999999999 FROM users WHERE email = 'ann@example.com'",
    )
    .await;

    let unsent = "SELECT COUNT(*) FROM outbox WHERE recipient = 'ann@example.com' AND sent_at IS NULL";
    assert_eq!(common::count(&app.pool, unsent).await, 1);
    let links = "SELECT COUNT(*) FROM email_tokens WHERE email = 'ann@example.com' AND used_at IS NULL";
    assert_eq!(common::count(&app.pool, links).await, 1, "the reset link");

    let response = app.post_form("/api/delete_account", &[("password", GOOD)]).await;
    assert_eq!(response.status(), 200);
    assert_eq!(app.user_count().await, 1, "bob stays");
    for (table, column) in [("email_tokens", "email"), ("outbox", "recipient")] {
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE {column} = 'ann@example.com'");
        assert_eq!(common::count(&app.pool, &sql).await, 0, "{table}: nothing of ann's is left");
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE {column} = 'bob@example.com'");
        assert!(common::count(&app.pool, &sql).await > 0, "{table}: bob's rows stay");
    }
    assert_eq!(app.session_count().await, 0, "ann's sessions are gone (bob has none open)");
    assert_eq!(chat_token_status(&app, &app.client).await, 401);
    assert_eq!(chat_token_status(&app, &other).await, 401);
    assert_eq!(app.login("ann@example.com", GOOD).await.status(), 401);
    // The address is free again.
    assert_eq!(app.register("ann@example.com", OTHER).await.status(), 200);
    assert_eq!(app.whoami().await.as_deref(), Some("ann@example.com"));
}

/// Another tab's `chat_token` is in flight (its session read, its answer not sent) while
/// the account is deleted: it answers from what it read before the delete, and no session
/// row survives; the cookie is worthless afterwards.
#[tokio::test]
async fn deleting_while_another_tab_is_mid_chat_token_leaves_no_session_behind() {
    let app = TestApp::spawn().await;
    assert_eq!(app.register("ann@example.com", GOOD).await.status(), 200);
    // Its last visit long ago: the in-flight request changes its session, so it saves it.
    app.set_session_value("ann@example.com", "chatpass.seen_at", json!(0)).await;
    let session_id = app.session_of("ann@example.com").await.0;
    let answer = app
        .request_overlapping("/api/chat_token", &session_id, async {
            let deleted = app.post_form("/api/delete_account", &[("password", GOOD)]).await;
            assert_eq!(deleted.status(), 200);
        })
        .await;
    let status = answer.lines().next().unwrap_or_default();
    assert!(status.contains(" 200 ") || status.contains(" 401 "), "{answer}");
    assert_eq!(app.user_count().await, 0);
    assert_eq!(app.session_count().await, 0, "the in-flight request brought no session back");
    assert_eq!(chat_token_status(&app, &app.client).await, 401);
    assert_eq!(app.chat_token_with_session_id(&session_id).await, 401);
}

/// Many requests of the session at once with the delete: each is 200 or 401, none 500.
#[tokio::test]
async fn deleting_while_another_tab_asks_for_tokens_leaves_no_session_behind() {
    let app = TestApp::spawn().await;
    assert_eq!(app.register("ann@example.com", GOOD).await.status(), 200);
    app.set_session_value("ann@example.com", "chatpass.seen_at", json!(0)).await;
    let mut tabs = tokio::task::JoinSet::new();
    for _ in 0..12 {
        let (client, url, origin) =
            (app.client.clone(), app.url("/api/chat_token"), format!("http://{}", app.addr));
        tabs.spawn(async move {
            client
                .post(url)
                .header("origin", origin)
                .header("accept", "application/json")
                .send()
                .await
                .unwrap()
                .status()
        });
    }
    let deleted = app.post_form("/api/delete_account", &[("password", GOOD)]).await;
    assert_eq!(deleted.status(), 200);
    for status in tabs.join_all().await {
        assert!(status == 200 || status == 401, "before the delete or after it: {status}");
    }
    assert_eq!(app.user_count().await, 0);
    assert_eq!(app.session_count().await, 0, "no request brought a session back");
    assert_eq!(chat_token_status(&app, &app.client).await, 401);
}

#[tokio::test]
async fn the_account_page_shows_the_account_and_sends_strangers_to_log_in() {
    let app = TestApp::spawn().await;
    let page = app.get("/account").await;
    assert_eq!(page.status(), 302);
    assert_eq!(page.headers()["location"], "/login?next=/account");
    assert_eq!(app.post_form("/api/account", &[]).await.status(), 401);

    assert_eq!(app.register("ann@example.com", GOOD).await.status(), 200);
    let info = app.account_with(&app.client).await;
    assert_eq!(info.email, "ann@example.com");
    assert!(info.email_verified);
    let day = info.created_on;
    assert_eq!(day.len(), 10, "{day}");
    assert!(day.starts_with("20"), "{day}");
    let html = app.get("/account").await.text().await.unwrap();
    for needle in
        ["ann@example.com", day.as_str(), "Change password", "Delete my account", "href=\"/account\""]
    {
        assert!(html.contains(needle), "{needle} on the account page");
    }
}

/// Writers of one account racing each other: two resets with two links, a reset against a
/// change, a delete against a login. Each takes the user's row before the tokens (on
/// PostgreSQL opposite orders deadlock, and one side would get an error): every answer is
/// one of the documented ones, never a 5xx.
#[tokio::test]
async fn concurrent_resets_changes_deletes_and_logins_of_one_account_answer_without_errors() {
    let app = TestApp::builder().env("CHATPASS_RESETS_PER_IP", "100").spawn().await;
    for round in 0..5 {
        let email = format!("racer{round}@example.com");
        let me = app.proven_user(&email).await.client;

        let first = reset_link(&app, &email).await;
        let second = reset_link(&app, &email).await;
        let (x, y) = (common::client(), common::client());
        let (a, b) = tokio::join!(reset(&app, &x, &first, OTHER), reset(&app, &y, &second, THIRD));
        let mut statuses = [a.status().as_u16(), b.status().as_u16()];
        statuses.sort();
        assert_eq!(statuses, [200, 400], "round {round}: one reset wins, the other link is void");
        let password = if a.status() == 200 { OTHER } else { THIRD };

        let login = [("email", email.as_str()), ("password", password)];
        assert_eq!(app.post_form_with(&me, "/api/login", &login).await.status(), 200);
        let link = reset_link(&app, &email).await;
        let fresh = common::client();
        let (by_link, by_form) =
            tokio::join!(reset(&app, &fresh, &link, GOOD), change(&app, &me, password, GOOD));
        for status in [by_link.status().as_u16(), by_form.status().as_u16()] {
            assert!([200, 400, 401].contains(&status), "round {round}: reset against change: {status}");
        }
        assert!(by_link.status() == 200 || by_form.status() == 200, "round {round}: one of them wins");

        let other = common::client();
        let login = [("email", email.as_str()), ("password", GOOD)];
        assert_eq!(app.post_form_with(&me, "/api/login", &login).await.status(), 200);
        let (deleted, logged_in) = tokio::join!(
            app.post_form_with(&me, "/api/delete_account", &[("password", GOOD)]),
            app.post_form_with(&other, "/api/login", &login)
        );
        assert_eq!(deleted.status(), 200, "round {round}");
        assert!([200, 401].contains(&logged_in.status().as_u16()), "round {round}: {}", logged_in.status());
        assert_eq!(
            app.whoami_with(&other).await,
            None,
            "round {round}: a login racing the delete holds no account"
        );
        assert_eq!(chat_token_status(&app, &other).await, 401);
    }
    assert_eq!(app.user_count().await, 0);
}

/// An account whose stored email no longer parses under today's rules (stored before them)
/// can still confirm its password, and so delete itself.
#[tokio::test]
async fn an_account_whose_stored_email_no_longer_parses_can_still_delete_itself() {
    let app = TestApp::spawn().await;
    assert_eq!(app.register("legacy@example.com", GOOD).await.status(), 200);
    app.execute("UPDATE users SET email = '\"quoted\"@example.com' WHERE email = 'legacy@example.com'").await;
    let response = app.post_form("/api/delete_account", &[("password", GOOD)]).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap_or_default());
    assert_eq!(app.user_count().await, 0);
}
