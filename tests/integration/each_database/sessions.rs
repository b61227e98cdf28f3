//! The session store: each row names its user, so loading a session joins the user in
//! one query. The name is only a hint; these tests break it behind the server's back and
//! check that nobody is ever taken for someone else.

use crate::common;

use common::TestApp;

const GOOD: &str = "correct horse battery staple";

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
    let bob = common::client();
    let form = [("email", "bob@example.com"), ("password", GOOD)];
    assert_eq!(app.post_form_with(&bob, "/api/signup", &form).await.status(), 202);
    let token = app.verification_token("bob@example.com", 1).await;
    assert_eq!(app.post_form_with(&bob, "/api/verify_email", &[("token", &token)]).await.status(), 200);
    bob
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
    let token = app.post_form("/api/chat_token", &[]).await;
    assert_eq!(token.status(), 200);
    let body: serde_json::Value = token.json().await.unwrap();
    assert_eq!(body["identity"], "ann@example.com");
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
    // A changed password hash, read through the join, still ends the session.
    app.execute("UPDATE users SET password_hash = password_hash || 'x'").await;
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
