//! Display names (issue 16) through the real router and a real database: chosen at sign-up
//! (optional; the email's local part by default), changed with `POST /api/set_display_name`,
//! answered by `POST /api/account` and `POST /api/chat_token`. A bad name is 400 on the
//! `display_name` field and writes nothing.

use crate::common;

use chatpass::{auth::DisplayNameInfo, db::Pool, error::AppError, token::IssuedChatToken};
use common::fixtures::GOOD;
use common::TestApp;
use serde_json::Value;

/// The whole body as JSON: for answers a test pins exactly, field for field.
async fn json(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

/// Names the rules refuse, each with what it is.
fn refused_names() -> Vec<(&'static str, String)> {
    vec![
        ("65 characters", "x".repeat(65)),
        ("65 multibyte characters", "\u{4E2D}".repeat(65)),
        ("a tab", "Ann\tLee".into()),
        ("a newline", "Ann\nLee".into()),
        ("a NUL", "Ann\0".into()),
        ("an escape", "Ann\u{1B}[31m".into()),
        ("a right-to-left override", "Ann\u{202E}gnp.exe".into()),
        ("a right-to-left isolate", "\u{2067}Ann".into()),
        ("a zero-width joiner", "An\u{200D}n".into()),
        ("markup", "<b>x</b>".into()),
        ("a lone <", "a < b".into()),
    ]
}

/// Signs `email` up and uses the mailed link, choosing the password and `display_name`
/// (when given) on its page: the client is signed in with a proven email.
async fn register_named(app: &TestApp, email: &str, display_name: Option<&str>) {
    let token = app.signup_link(email).await;
    let mut form = vec![("token", token.as_str()), ("password", GOOD)];
    if let Some(name) = display_name {
        form.push(("display_name", name));
    }
    let response = app.post_form("/api/verify_email", &form).await;
    assert_eq!(response.status(), 200, "{email}: {}", response.text().await.unwrap_or_default());
}

async fn account_name(app: &TestApp, client: &reqwest::Client) -> String {
    app.account_with(client).await.display_name
}

async fn token_name(app: &TestApp, client: &reqwest::Client) -> String {
    app.chat_token_with(client).await.display_name
}

/// The `display_name` column of `email`'s row, as stored (NULL: none chosen).
async fn stored_name(app: &TestApp, email: &str) -> Option<String> {
    let sql = "SELECT display_name FROM users WHERE email = $1";
    match &app.pool {
        Pool::Sqlite(p) => sqlx::query_scalar(sql).bind(email).fetch_one(p).await.unwrap(),
        Pool::Postgres(p) => sqlx::query_scalar(sql).bind(email).fetch_one(p).await.unwrap(),
    }
}

type UserRow = (i64, String, String, Option<String>, String, Option<i64>);

/// Every user row, whole: to see that nothing was written.
async fn users_table(app: &TestApp) -> Vec<UserRow> {
    let sql = "SELECT id, email, password_hash, display_name, session_key, email_verified_at \
               FROM users ORDER BY id";
    match &app.pool {
        Pool::Sqlite(p) => sqlx::query_as(sql).fetch_all(p).await.unwrap(),
        Pool::Postgres(p) => sqlx::query_as(sql).fetch_all(p).await.unwrap(),
    }
}

async fn set_name(app: &TestApp, client: &reqwest::Client, name: &str) -> reqwest::Response {
    app.post_form_with(client, "/api/set_display_name", &[("display_name", name)]).await
}

async fn assert_display_name_refused(response: reqwest::Response, what: &str) {
    assert_eq!(response.status(), 400, "{what}");
    let (field, reason) = common::bad_input(response).await;
    assert_eq!(field, "display_name", "{what}: {reason}");
    assert!(!reason.is_empty(), "{what}");
}

#[tokio::test]
async fn a_sign_up_without_a_display_name_is_shown_by_the_emails_local_part() {
    let app = TestApp::spawn().await;
    // Left out, empty, or only whitespace: all the default, and nothing stored.
    for (email, given) in
        [("Ann.Lee@Example.com", None), ("bob@example.com", Some("")), ("cy+chat@example.com", Some("  \t "))]
    {
        let client = common::client();
        assert_eq!(
            app.post_form_with(&client, "/api/signup", &[("email", email)]).await.status(),
            202,
            "{email}"
        );
        let stored = email.to_lowercase();
        let token = app.verification_token(&stored, 1).await;
        let mut form = vec![("token", token.as_str()), ("password", GOOD)];
        if let Some(name) = given {
            form.push(("display_name", name));
        }
        assert_eq!(app.post_form_with(&client, "/api/verify_email", &form).await.status(), 200);
        let local = stored.split('@').next().unwrap();
        assert_eq!(account_name(&app, &client).await, local, "{email}");
        assert_eq!(token_name(&app, &client).await, local, "{email}");
        assert_eq!(stored_name(&app, &stored).await, None, "{email}: the default is not stored");
    }
}

#[tokio::test]
async fn a_display_name_with_emoji_and_right_to_left_text_is_stored_exactly_after_nfc() {
    let app = TestApp::spawn().await;
    // Hebrew and Arabic letters, an emoji with a skin tone, and "é" typed as "e" plus a
    // combining accent; surrounding whitespace.
    let hebrew_arabic_emoji = "\u{05D3}\u{05E0}\u{05D4} \u{0633}\u{0627}\u{0631}\u{0627} \u{1F44B}\u{1F3FD}";
    let typed = format!("  Dana {hebrew_arabic_emoji} Rene\u{301}\u{3000}");
    let stored = format!("Dana {hebrew_arabic_emoji} Ren\u{E9}");
    let stored = stored.as_str();
    register_named(&app, "dana@example.com", Some(&typed)).await;
    assert_eq!(stored_name(&app, "dana@example.com").await.as_deref(), Some(stored));
    assert_eq!(account_name(&app, &app.client).await, stored);
    assert_eq!(token_name(&app, &app.client).await, stored);
    // The identity is still the email: the name is not an identity.
    assert_eq!(app.chat_token().await.identity, "dana@example.com");
    // 64 characters (after NFC) is the longest allowed.
    let longest = "\u{1F600}".repeat(64);
    let set: DisplayNameInfo = common::answer(set_name(&app, &app.client, &longest).await, 200).await;
    assert_eq!(set.display_name, longest);
}

#[tokio::test]
async fn a_bad_display_name_on_the_links_page_is_400_on_its_field_and_uses_nothing() {
    let app = TestApp::spawn().await;
    let token = app.signup_link("new@example.com").await;
    let mut names = refused_names();
    names.push(("an email address", "real.ann@example.com".into()));
    names.push(("the service's staff", "chatpass admin".into()));
    let before = users_table(&app).await;
    for (what, name) in names {
        let form = [("token", token.as_str()), ("password", GOOD), ("display_name", name.as_str())];
        let response = app.post_form_with(&common::client(), "/api/verify_email", &form).await;
        assert!(response.headers().get("set-cookie").is_none(), "{what}: no session");
        assert_display_name_refused(response, what).await;
    }
    assert_eq!(users_table(&app).await, before, "the account is as the sign-up left it");
    assert_eq!(app.session_count().await, 0);
    // The link still works.
    let form = [("token", token.as_str()), ("password", GOOD), ("display_name", "New")];
    assert_eq!(app.post_form("/api/verify_email", &form).await.status(), 200);
    assert_eq!(stored_name(&app, "new@example.com").await.as_deref(), Some("New"));
}

#[tokio::test]
async fn a_sign_up_never_sets_or_changes_a_display_name() {
    let app = TestApp::spawn().await;
    // Proven accounts with no name chosen and with one, and an account nobody has proven.
    register_named(&app, "ann@example.com", None).await;
    register_named(&app, "carol@example.com", Some("Carol")).await;
    let bob = common::client();
    let form = [("email", "bob@example.com"), ("password", GOOD), ("display_name", "Bob")];
    assert_eq!(app.post_form_with(&bob, "/api/signup", &form).await.status(), 202);
    for (email, kept) in
        [("ann@example.com", None), ("carol@example.com", Some("Carol")), ("bob@example.com", None)]
    {
        let response = app
            .post_form_with(
                &common::client(),
                "/api/signup",
                &[("email", email), ("password", GOOD), ("display_name", "<b>Mallory</b>")],
            )
            .await;
        // The same answer as for a new email, whatever the name: a sign-up reads no name.
        assert_eq!(response.status(), 202, "{email}");
        assert_eq!(json(response).await, serde_json::json!({"status": "check_your_inbox"}));
        assert_eq!(stored_name(&app, email).await.as_deref(), kept, "{email}");
    }
    assert_eq!(account_name(&app, &app.client).await, "Carol");
    // Bob's address is proven by either link; the name is the one chosen on its page.
    let token = app.verification_token("bob@example.com", 2).await;
    let form = [("token", token.as_str()), ("password", GOOD), ("display_name", "Robert")];
    assert_eq!(app.post_form_with(&bob, "/api/verify_email", &form).await.status(), 200);
    assert_eq!(account_name(&app, &bob).await, "Robert");
    assert_eq!(token_name(&app, &bob).await, "Robert");
}

/// Names that pose as someone else: an address, the service's staff, and a name that looks
/// like another account's (Cyrillic letters, fullwidth letters, case).
#[tokio::test]
async fn a_display_name_cannot_pose_as_an_address_the_staff_or_another_account() {
    let app = TestApp::spawn().await;
    register_named(&app, "ann@example.com", Some("Ann Lee")).await;
    let bob = common::client();
    let token = app.signup_link("bob@example.com").await;
    // On the link's page, taken names are refused and the link still works.
    let form = [("token", token.as_str()), ("password", GOOD), ("display_name", "\u{0410}nn Lee")];
    assert_display_name_refused(app.post_form_with(&bob, "/api/verify_email", &form).await, "look-alike")
        .await;
    let form = [("token", token.as_str()), ("password", GOOD)];
    assert_eq!(app.post_form_with(&bob, "/api/verify_email", &form).await.status(), 200);
    for (what, name) in [
        ("an email address", "real.ann@example.com"),
        ("the service's staff", "chatpass admin"),
        ("Cyrillic look-alike", "\u{0410}nn L\u{0435}e"),
        ("fullwidth and case", "\u{FF41}NN  lee"),
    ] {
        assert_display_name_refused(set_name(&app, &bob, name).await, what).await;
    }
    assert_eq!(stored_name(&app, "bob@example.com").await, None);
    // Ann may keep (and set again) her own name; Bob takes a free one.
    assert_eq!(set_name(&app, &app.client, "Ann Lee").await.status(), 200);
    assert_eq!(set_name(&app, &bob, "Bob").await.status(), 200);
    // Once Ann moves on, her old name is free.
    assert_eq!(set_name(&app, &app.client, "Ann L.").await.status(), 200);
    assert_eq!(set_name(&app, &bob, "Ann Lee").await.status(), 200);
}

/// Two accounts taking one name at once: exactly one gets it.
#[tokio::test]
async fn two_accounts_taking_the_same_name_at_once_one_gets_it() {
    let app = TestApp::spawn().await;
    register_named(&app, "ann@example.com", None).await;
    let bob = common::client();
    let token = app.signup_link("bob@example.com").await;
    assert_eq!(app.verify_with(&bob, &token, GOOD).await.status(), 200);
    let (a, b) = tokio::join!(set_name(&app, &app.client, "Sam"), set_name(&app, &bob, "\u{0405}am"));
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 400]);
}

#[tokio::test]
async fn with_verification_off_the_name_given_at_sign_up_is_stored() {
    let app = TestApp::builder().env("CHATPASS_EMAIL_VERIFICATION", "off").spawn().await;
    let response = app
        .post_form(
            "/api/signup",
            &[("email", "ann@example.com"), ("password", GOOD), ("display_name", " Ann ")],
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(account_name(&app, &app.client).await, "Ann");
    assert_eq!(token_name(&app, &app.client).await, "Ann");
    let response = app
        .post_form_with(
            &common::client(),
            "/api/signup",
            &[("email", "bob@example.com"), ("password", GOOD), ("display_name", "<b>Bob</b>")],
        )
        .await;
    assert_display_name_refused(response, "markup").await;
    assert_eq!(app.user_count().await, 1);
}

#[tokio::test]
async fn set_display_name_needs_a_session() {
    let app = TestApp::spawn().await;
    let response = set_name(&app, &common::client(), "Ann").await;
    assert_eq!(response.status(), 401);
    assert_eq!(common::app_error(response).await, AppError::NotSignedIn);
    // Signed out with a bad name too: who you are comes first.
    assert_eq!(set_name(&app, &common::client(), "<b>").await.status(), 401);
    // From another site: refused before any handler.
    let response = common::client()
        .post(app.url("/api/set_display_name"))
        .header("origin", "https://evil.example")
        .form(&[("display_name", "Ann")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
}

#[tokio::test]
async fn set_display_name_changes_the_name_in_the_token_answer_and_keeps_every_session() {
    let app = TestApp::spawn().await;
    register_named(&app, "ann@example.com", None).await;
    let elsewhere = common::client();
    assert_eq!(
        app.post_form_with(&elsewhere, "/api/login", &[("email", "ann@example.com"), ("password", GOOD)])
            .await
            .status(),
        200
    );
    assert_eq!(token_name(&app, &app.client).await, "ann");
    let sessions = app.session_count().await;

    let response = set_name(&app, &app.client, "  Ann \u{05E9}\u{05DC}\u{05D5}\u{05DD} \u{1F600} ").await;
    assert_eq!(response.status(), 200);
    let saved = "Ann \u{05E9}\u{05DC}\u{05D5}\u{05DD} \u{1F600}";
    assert_eq!(json(response).await, serde_json::json!({"display_name": saved}));
    assert_eq!(token_name(&app, &app.client).await, saved);
    assert_eq!(account_name(&app, &app.client).await, saved);
    // Every session goes on, this one and the other browser's; the other sees the new name.
    assert_eq!(app.session_count().await, sessions);
    assert_eq!(app.whoami().await.as_deref(), Some("ann@example.com"));
    assert_eq!(token_name(&app, &elsewhere).await, saved);

    // A bad one is 400 on the field, and the saved name stays.
    let mut bad = refused_names();
    bad.push(("empty", String::new()));
    bad.push(("only whitespace", " \t ".into()));
    for (what, name) in bad {
        assert_display_name_refused(set_name(&app, &app.client, &name).await, what).await;
    }
    assert_display_name_refused(app.post_form("/api/set_display_name", &[]).await, "missing").await;
    assert_eq!(stored_name(&app, "ann@example.com").await.as_deref(), Some(saved));
    assert_eq!(token_name(&app, &app.client).await, saved);
}

#[tokio::test]
async fn set_display_name_works_without_javascript() {
    let app = TestApp::spawn().await;
    register_named(&app, "ann@example.com", None).await;
    let page = app.get("/account").await.text().await.unwrap();
    assert!(page.contains("data-testid=\"account-display-name\">ann<"), "the default is shown");

    let response =
        app.post_plain_form("/api/set_display_name", "/account", &[("display_name", "Ann Lee")]).await;
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()["location"], "/account?renamed=1");
    let page = app.get("/account?renamed=1").await.text().await.unwrap();
    assert!(page.contains("data-testid=\"account-display-name\">Ann Lee<"), "the saved name is shown");

    let response =
        app.post_plain_form("/api/set_display_name", "/account", &[("display_name", "<b>x</b>")]).await;
    assert_eq!(response.status(), 302);
    let back = response.headers()["location"].to_str().unwrap().to_string();
    assert!(back.contains("/account?") && back.contains("__err="), "{back}");
    let page = app.client.get(back).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Display names cannot contain &lt; or &gt;."), "the error is shown inline");
    assert!(page.contains("data-testid=\"account-display-name\">Ann Lee<"), "the old name is kept");
}

#[tokio::test]
async fn display_name_changes_are_limited_per_account() {
    let app = TestApp::builder().env("CHATPASS_DISPLAY_NAMES_PER_ACCOUNT", "2").spawn().await;
    register_named(&app, "ann@example.com", None).await;
    // Refused names are not counted.
    for _ in 0..5 {
        assert_eq!(set_name(&app, &app.client, "<b>").await.status(), 400);
    }
    assert_eq!(set_name(&app, &app.client, "One").await.status(), 200);
    assert_eq!(set_name(&app, &app.client, "Two").await.status(), 200);
    let response = set_name(&app, &app.client, "Three").await;
    assert_eq!(response.status(), 429);
    assert!(response.headers().contains_key("retry-after"));
    assert_eq!(stored_name(&app, "ann@example.com").await.as_deref(), Some("Two"));
}

/// Twenty changes of one session's name race twenty token requests of the same session:
/// every answer is 200, every token answer carries a whole name (the one before, or one
/// of the twenty), and the name that stays is one of the twenty.
#[tokio::test]
async fn concurrent_name_changes_and_token_requests_see_only_whole_names() {
    let app = TestApp::spawn().await;
    register_named(&app, "ann@example.com", Some("Before")).await;
    let names: Vec<String> = (0..20).map(|i| format!("Name {i} \u{1F600} \u{05D3}{i}")).collect();
    let origin = format!("http://{}", app.addr);
    let mut sets = Vec::new();
    let mut tokens = Vec::new();
    for name in names.iter().cloned() {
        let (client, url, from) = (app.client.clone(), app.url("/api/set_display_name"), origin.clone());
        sets.push(tokio::spawn(async move {
            let response = client
                .post(url)
                .header("origin", from)
                .header("accept", "application/json")
                .form(&[("display_name", &name)])
                .send()
                .await
                .unwrap();
            let set: DisplayNameInfo = common::answer(response, 200).await;
            (name, set)
        }));
        let (client, url, from) = (app.client.clone(), app.url("/api/chat_token"), origin.clone());
        tokens.push(tokio::spawn(async move {
            let response = client
                .post(url)
                .header("origin", from)
                .header("accept", "application/json")
                .send()
                .await
                .unwrap();
            common::answer::<IssuedChatToken>(response, 200).await
        }));
    }
    for set in sets {
        let (name, set) = set.await.unwrap();
        assert_eq!(set.display_name, name);
    }
    for token in tokens {
        let body = token.await.unwrap();
        let seen = body.display_name.as_str();
        assert!(seen == "Before" || names.iter().any(|n| n == seen), "a torn or unknown name: {seen:?}");
    }
    let last = stored_name(&app, "ann@example.com").await.unwrap();
    assert!(names.contains(&last), "{last:?}");
    assert_eq!(token_name(&app, &app.client).await, last);
    assert_eq!(app.session_count().await, 1, "the session went on");
}
