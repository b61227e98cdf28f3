//! `/healthz` and `/readyz`, server-side rendering, static files and compression over the real router.

use crate::common;

use common::TestApp;

#[tokio::test]
async fn healthz_is_ok_when_the_database_answers() {
    let app = TestApp::spawn().await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"status": "ok"}));
    app.stop().await;
}

#[tokio::test]
async fn a_sqlite_database_file_and_its_directory_are_created_on_start() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("new/dir/chatpass.db");
    let app = TestApp::builder().env("DATABASE_URL", &format!("sqlite://{}", file.display())).spawn().await;
    assert!(file.exists(), "the SQLite file is created on start");
    assert_eq!(app.get("/healthz").await.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn readyz_is_ready_when_the_database_answers_migrations_are_applied_and_mail_runs() {
    let app = TestApp::spawn().await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"status": "ready"}));
    // A database an older binary migrated (one migration fewer): not ready for this one.
    app.execute("DELETE FROM _sqlx_migrations WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)")
        .await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 503);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"status": "unavailable", "reason": "migrations"}));
}

#[tokio::test]
async fn without_a_database_healthz_stays_ok_and_readyz_is_503() {
    let app = TestApp::spawn().await;
    // Close the server's pool from the outside: every later query fails, as with a dead database.
    app.pool.close().await;
    // Liveness makes no database call: the process is fine, do not restart it.
    assert_eq!(app.get("/healthz").await.status(), 200);
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 503);
    assert!(response.headers().contains_key("retry-after"));
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"status": "unavailable", "reason": "database"}));
}

#[tokio::test]
async fn home_page_is_rendered_on_the_server_and_only_interactive_pages_load_the_bundle() {
    let app = TestApp::spawn().await;
    let response = app.get("/").await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = response.text().await.unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(html.contains("<h1>chatpass</h1>"));
    // Nothing on the home page is interactive: it loads no WebAssembly.
    assert!(
        !html.contains("/pkg/chatpass.js") && !html.contains("/pkg/chatpass.wasm"),
        "the home page loads no bundle: {html}"
    );
    assert!(!html.contains("data-hydrated"), "the server render is not marked hydrated");
    // A page with an island does.
    let login = app.get("/login").await.text().await.unwrap();
    assert!(login.contains("/pkg/chatpass.js"), "hydration script referenced");
    assert!(login.contains("mod.hydrate()"), "hydration bootstrap present");
    assert!(html.contains(r#"data-mode="demo""#), "the page says the instance runs in demo mode");
}

#[tokio::test]
async fn unknown_pages_are_404() {
    let app = TestApp::spawn().await;
    let response = app.get("/no/such/page").await;
    assert_eq!(response.status(), 404);
    assert!(response.text().await.unwrap().contains("Page not found"));
}

#[tokio::test]
async fn html_is_compressed_when_asked() {
    let app = TestApp::spawn().await;
    let raw = reqwest::Client::builder().no_gzip().no_brotli().build().unwrap();
    for encoding in ["br", "gzip"] {
        let response = raw.get(app.url("/")).header("accept-encoding", encoding).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-encoding"], encoding);
    }
}

/// Needs the built site (`make test` builds it before the Rust tests).
#[tokio::test]
async fn the_bundle_is_served_and_compressed_when_asked() {
    let app = TestApp::spawn().await;
    let html = app.get("/login").await.text().await.unwrap();
    assert!(html.contains("/pkg/chatpass.wasm"), "the page names the bundle cargo-leptos builds");
    let raw = reqwest::Client::builder().no_gzip().no_brotli().build().unwrap();
    for (path, content_type) in
        [("/pkg/chatpass.wasm", "application/wasm"), ("/pkg/chatpass.js", "text/javascript")]
    {
        let plain = raw.get(app.url(path)).send().await.unwrap();
        assert_eq!(plain.status(), 200, "{path}: run `make site` first");
        assert!(plain.headers()["content-type"].to_str().unwrap().starts_with(content_type), "{path}");
        let plain_len = plain.bytes().await.unwrap().len();
        let compressed = raw.get(app.url(path)).header("accept-encoding", "br, gzip").send().await.unwrap();
        assert_eq!(compressed.status(), 200);
        assert_eq!(compressed.headers()["content-encoding"], "br", "{path}");
        assert!(compressed.bytes().await.unwrap().len() < plain_len / 2, "{path} shrinks");
    }
}
