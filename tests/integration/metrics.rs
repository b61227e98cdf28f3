//! `/metrics` on its own listener: scraped before and after real requests, each counter
//! moves. The recorder is one per process and the tests run in parallel, so the checks
//! are "went up by at least", never exact values.

use crate::common::fixtures::GOOD;
use crate::common::{self, TestApp};

async fn scrape(app: &TestApp) -> String {
    let at = app.metrics_addr.expect("metrics are on");
    let response = reqwest::get(format!("http://{at}/metrics")).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    response.text().await.unwrap()
}

/// The value of the sample `name` (with its labels, as Prometheus writes them); 0 if absent.
fn value(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
        .map_or(0.0, |v| v.trim().parse().unwrap())
}

#[tokio::test]
async fn each_counter_moves_with_the_request_it_counts() {
    let app = TestApp::builder()
        .env("CHATPASS_METRICS_ADDR", "127.0.0.1:0")
        .env("CHATPASS_SIGNUPS_PER_IP", "3")
        .spawn()
        .await;
    let before = scrape(&app).await;
    assert!(value(&before, "chatpass_process_start_time_seconds") > 1.7e9, "{before}");

    assert_eq!(app.register("ann@example.com", GOOD).await.status(), 200);
    assert_eq!(app.login("ann@example.com", GOOD).await.status(), 200);
    assert_eq!(app.login("ann@example.com", "a wrong password").await.status(), 401);
    assert_eq!(app.post_form("/api/chat_token", &[]).await.status(), 200);
    for i in 0..3 {
        let email = format!("x{i}@example.com");
        let _ = app
            .post_form_with(&common::client(), "/api/signup", &[("email", &email), ("password", GOOD)])
            .await;
    }
    let after = scrape(&app).await;

    let moved = |name: &str| {
        let (b, a) = (value(&before, name), value(&after, name));
        assert!(a >= b + 1.0, "{name}: {b} -> {a}\n{after}");
    };
    moved("chatpass_signups_total");
    moved("chatpass_verifications_total");
    moved("chatpass_logins_total{result=\"ok\"}");
    moved("chatpass_logins_total{result=\"bad_credentials\"}");
    moved("chatpass_tokens_issued_total{mode=\"demo\"}");
    moved("chatpass_mails_total{result=\"sent\"}");
    moved("chatpass_rate_limited_total{route=\"/api/signup\"}");
    moved("chatpass_request_duration_seconds_count{route=\"/api/chat_token\"}");
    moved("chatpass_hash_wait_seconds_count");
    for gauge in ["chatpass_db_pool_connections", "chatpass_hash_queue_depth"] {
        assert!(after.lines().any(|l| l.starts_with(gauge)), "{gauge} in\n{after}");
    }
    // Paths nobody routes do not become labels.
    let _ = app.get("/no/such/page/3f9a").await;
    assert!(!scrape(&app).await.contains("3f9a"));
}

#[tokio::test]
async fn metrics_are_never_on_the_public_router() {
    let app = TestApp::builder().env("CHATPASS_METRICS_ADDR", "127.0.0.1:0").spawn().await;
    assert_eq!(app.get("/metrics").await.status(), 404);
    let off = TestApp::spawn().await;
    assert_eq!(off.metrics_addr, None);
    assert_eq!(off.get("/metrics").await.status(), 404);
}
