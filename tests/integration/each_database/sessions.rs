//! The session store: each row names its user, so loading a session joins the user in
//! one query. The name is only a hint; these tests break it behind the server's back and
//! check that nobody is ever taken for someone else.

use crate::common;

use common::fixtures::GOOD;
use common::TestApp;

/// The `user_id` column of every session row, in no particular order.
async fn session_user_ids(app: &TestApp) -> Vec<Option<i64>> {
    let sql = format!("SELECT user_id FROM {} ORDER BY user_id", app.sessions_table());
    match &app.pool {
        chatpass::db::Pool::Sqlite(p) => sqlx::query_scalar(&sql).fetch_all(p).await.unwrap(),
        chatpass::db::Pool::Postgres(p) => sqlx::query_scalar(&sql).fetch_all(p).await.unwrap(),
    }
}

async fn user_id(app: &TestApp, email: &str) -> i64 {
    let sql = format!("SELECT id FROM users WHERE email = '{email}'");
    common::count(&app.pool, &sql).await
}

/// Ann signed in with `app.client`, Bob with the returned client.
async fn ann_and_bob(app: &TestApp) -> reqwest::Client {
    assert_eq!(app.register("ann@example.com", GOOD).await.status(), 200);
    app.proven_user("bob@example.com").await.client
}

#[tokio::test]
async fn a_session_row_names_the_user_it_is_signed_in_as_and_logout_removes_it() {
    let app = TestApp::spawn().await;
    let bob = ann_and_bob(&app).await;
    let (ann_id, bob_id) = (user_id(&app, "ann@example.com").await, user_id(&app, "bob@example.com").await);
    let mut expected = vec![Some(ann_id), Some(bob_id)];
    expected.sort();
    assert_eq!(session_user_ids(&app).await, expected);
    assert_eq!(app.whoami().await.as_deref(), Some("ann@example.com"));
    assert_eq!(app.whoami_with(&bob).await.as_deref(), Some("bob@example.com"));

    assert_eq!(app.post_form("/api/logout", &[]).await.status(), 200);
    assert_eq!(session_user_ids(&app).await, vec![Some(bob_id)]);
}

#[tokio::test]
async fn a_session_whose_row_names_another_user_still_gets_its_own_user() {
    let app = TestApp::spawn().await;
    let bob = ann_and_bob(&app).await;
    let bob_id = user_id(&app, "bob@example.com").await;
    // Every row now claims Bob: the joined-in user must not be taken for Ann's session.
    app.execute(&format!("UPDATE {} SET user_id = {bob_id}", app.sessions_table())).await;
    assert_eq!(app.whoami().await.as_deref(), Some("ann@example.com"));
    assert_eq!(app.whoami_with(&bob).await.as_deref(), Some("bob@example.com"));
    assert_eq!(app.chat_token().await.identity, "ann@example.com");
}

#[tokio::test]
async fn a_session_without_a_user_in_its_row_is_looked_up_as_before() {
    // Rows written before the column existed have NULL there.
    let app = TestApp::spawn().await;
    assert_eq!(app.register("ann@example.com", GOOD).await.status(), 200);
    app.execute(&format!("UPDATE {} SET user_id = NULL", app.sessions_table())).await;
    assert_eq!(app.whoami().await.as_deref(), Some("ann@example.com"));
    assert_eq!(app.post_form("/api/chat_token", &[]).await.status(), 200);
}

#[tokio::test]
async fn the_joined_user_is_checked_like_any_other() {
    let app = TestApp::spawn().await;
    assert_eq!(app.register("ann@example.com", GOOD).await.status(), 200);
    // A new session key (what a password change sets), read through the join, still ends the session.
    app.execute("UPDATE users SET session_key = session_key || 'x'").await;
    assert_eq!(app.post_form("/api/chat_token", &[]).await.status(), 401);
    assert_eq!(app.whoami().await, None);
}

#[tokio::test]
async fn deleting_a_user_deletes_their_sessions() {
    let app = TestApp::spawn().await;
    let bob = ann_and_bob(&app).await;
    app.execute("DELETE FROM users WHERE email = 'ann@example.com'").await;
    assert_eq!(app.session_count().await, 1);
    assert_eq!(app.whoami().await, None);
    assert_eq!(app.whoami_with(&bob).await.as_deref(), Some("bob@example.com"));
}

#[tokio::test]
async fn a_session_row_that_cannot_be_read_signs_the_visitor_out_without_an_error() {
    let app = TestApp::spawn().await;
    assert_eq!(app.register("ann@example.com", GOOD).await.status(), 200);
    let blob = match &app.pool {
        chatpass::db::Pool::Sqlite(_) => "CAST('not messagepack' AS BLOB)",
        chatpass::db::Pool::Postgres(_) => "CAST('not messagepack' AS BYTEA)",
    };
    app.execute(&format!("UPDATE {} SET data = {blob}", app.sessions_table())).await;
    assert_eq!(app.post_form("/api/chat_token", &[]).await.status(), 401);
    assert_eq!(app.whoami().await, None);
    assert_eq!(app.get("/chat").await.status(), 302);
    // Logging in again works and replaces it.
    assert_eq!(app.login("ann@example.com", GOOD).await.status(), 200);
    assert_eq!(app.whoami().await.as_deref(), Some("ann@example.com"));
}

fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

async fn chat_token_status(app: &TestApp, client: &reqwest::Client) -> u16 {
    app.post_form_with(client, "/api/chat_token", &[]).await.status().as_u16()
}

/// Logout while a request of the same session is in flight: the request's save after the
/// logout must not re-insert the deleted row (as an upsert would): the old cookie would work again.
#[tokio::test]
async fn logout_racing_a_slow_request_of_the_same_session_never_brings_it_back() {
    let app = TestApp::spawn().await;
    assert_eq!(app.register("ann@example.com", GOOD).await.status(), 200);
    assert_eq!(app.post_form("/api/logout", &[]).await.status(), 200);
    for round in 0..20 {
        let client = app.logged_in_browser("ann@example.com", GOOD, None).await;
        // Its last visit long ago: the in-flight request changes the session, so it saves it.
        app.set_session_value("ann@example.com", "chatpass.seen_at", serde_json::json!(0)).await;
        let session_id = app.session_of("ann@example.com").await.0;
        let answer = app
            .request_overlapping("/api/chat_token", &session_id, async {
                assert_eq!(app.post_form_with(&client, "/api/logout", &[]).await.status(), 200);
            })
            .await;
        let status = answer.lines().next().unwrap_or_default();
        assert!(status.contains(" 200 ") || status.contains(" 401 "), "round {round}: {answer}");
        assert_eq!(app.session_count().await, 0, "round {round}: the ended session stays ended");
        assert_eq!(app.whoami_with(&client).await, None, "round {round}");
        assert_eq!(
            app.chat_token_with_session_id(&session_id).await,
            401,
            "round {round}: the old session id"
        );
    }
}

#[tokio::test]
async fn the_absolute_timeout_refuses_the_very_request_that_crosses_it() {
    let app = TestApp::builder().env("CHATPASS_SESSION_ABSOLUTE_SECS", "60").spawn().await;
    assert_eq!(app.register("ann@example.com", GOOD).await.status(), 200);
    // Logged in 50 s ago: still in.
    app.set_session_value("ann@example.com", "chatpass.login_at", serde_json::json!(unix_now() - 50)).await;
    assert_eq!(chat_token_status(&app, &app.client).await, 200);
    // 63 s ago: this request itself is refused, and the session is gone.
    app.set_session_value("ann@example.com", "chatpass.login_at", serde_json::json!(unix_now() - 63)).await;
    assert_eq!(chat_token_status(&app, &app.client).await, 401);
    assert_eq!(app.session_count().await, 0);

    assert_eq!(app.login("ann@example.com", GOOD).await.status(), 200);
    app.set_session_value("ann@example.com", "chatpass.login_at", serde_json::json!(unix_now() - 63)).await;
    let page = app.get("/chat").await;
    assert_eq!(page.status(), 302, "the chat page sends the visitor to log in again");
    assert_eq!(page.headers()["location"], "/login?next=/chat");
}

#[tokio::test]
async fn the_idle_timeout_refuses_the_request_that_crosses_it() {
    let app = TestApp::spawn().await;
    assert_eq!(app.register("ann@example.com", GOOD).await.status(), 200);
    assert_eq!(chat_token_status(&app, &app.client).await, 200);
    // The row's expiry (last save + idle timeout) a second ago, written as the store writes it.
    let expired = time::OffsetDateTime::now_utc() - time::Duration::seconds(1);
    let sql = format!("UPDATE {} SET expiry_date = $1", app.sessions_table());
    match &app.pool {
        chatpass::db::Pool::Sqlite(p) => sqlx::query(&sql).bind(expired).execute(p).await.map(drop).unwrap(),
        chatpass::db::Pool::Postgres(p) => {
            sqlx::query(&sql).bind(expired).execute(p).await.map(drop).unwrap()
        }
    }
    // Time passing, written behind the server's back: announced (see TestApp::execute).
    chatpass::db::accounts_changed();
    assert_eq!(chat_token_status(&app, &app.client).await, 401);
    assert_eq!(app.get("/chat").await.status(), 302);
}

#[tokio::test]
async fn session_rows_hold_nothing_derived_from_the_password() {
    let app = TestApp::spawn().await;
    assert_eq!(app.register("ann@example.com", GOOD).await.status(), 200);
    let (_, hash) = app.stored_credentials().await;
    let (_, record) = app.session_of("ann@example.com").await;
    let text = serde_json::to_string(&record.data).unwrap();
    assert!(!text.contains("argon2") && !text.contains(&hash), "{text}");
    let data: Vec<u8> = {
        let sql = format!("SELECT data FROM {}", app.sessions_table());
        match &app.pool {
            chatpass::db::Pool::Sqlite(p) => sqlx::query_scalar(&sql).fetch_one(p).await.unwrap(),
            chatpass::db::Pool::Postgres(p) => sqlx::query_scalar(&sql).fetch_one(p).await.unwrap(),
        }
    };
    let raw = String::from_utf8_lossy(&data);
    assert!(!raw.contains("argon2") && !raw.contains(&hash[hash.len() - 20..]));
}

/// Pages that show an account, and the pages behind mailed links, are never cached; logout
/// asks the browser to drop its cache of the site.
#[tokio::test]
async fn account_pages_and_link_pages_are_not_stored_and_logout_clears_the_cache() {
    let app = TestApp::spawn().await;
    let signed_out = app.get("/login").await;
    assert_ne!(signed_out.headers().get("cache-control").map(|v| v.to_str().unwrap()), Some("no-store"));
    for path in ["/verify?token=x", "/reset?token=x"] {
        assert_eq!(app.get(path).await.headers()["cache-control"], "no-store", "{path}");
    }
    assert_eq!(app.register("ann@example.com", GOOD).await.status(), 200);
    for path in ["/", "/account", "/chat", "/login"] {
        let page = app.get(path).await;
        assert_eq!(page.status(), 200, "{path}");
        assert_eq!(page.headers()["cache-control"], "no-store", "{path}");
    }
    // The bundle stays cacheable for signed-in visitors too.
    let favicon = app.get("/favicon.ico").await;
    assert_ne!(favicon.headers().get("cache-control").map(|v| v.to_str().unwrap()), Some("no-store"));
    let logout = app.post_form("/api/logout", &[]).await;
    assert_eq!(logout.headers()["clear-site-data"], "\"cache\"");
}
