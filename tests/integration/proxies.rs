//! The client address behind a proxy (`CHATPASS_TRUSTED_PROXIES`): what the per-address
//! limits count. The test client connects from 127.0.0.1, which plays the proxy.

use crate::common::fixtures::GOOD;
use crate::common::{self, TestApp};

async fn signup_from(app: &TestApp, forwarded_for: Option<&str>, email: &str) -> u16 {
    let mut request = common::client()
        .post(app.url("/api/signup"))
        .header("origin", format!("http://{}", app.addr))
        .header("accept", "application/json")
        .form(&[("email", email), ("password", GOOD)]);
    if let Some(xff) = forwarded_for {
        request = request.header("x-forwarded-for", xff);
    }
    request.send().await.unwrap().status().as_u16()
}

async fn login_from(
    app: &TestApp,
    client: &reqwest::Client,
    forwarded_for: &str,
    email: &str,
    password: &str,
) -> u16 {
    client
        .post(app.url("/api/login"))
        .header("origin", format!("http://{}", app.addr))
        .header("accept", "application/json")
        .header("x-forwarded-for", forwarded_for)
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_budget() {
    let app = TestApp::builder()
        .env("CHATPASS_TRUSTED_PROXIES", "127.0.0.1")
        .env("CHATPASS_SIGNUPS_PER_IP", "2")
        .spawn()
        .await;
    assert_eq!(signup_from(&app, Some("203.0.113.1"), "a1@example.com").await, 202);
    assert_eq!(signup_from(&app, Some("203.0.113.1"), "a2@example.com").await, 202);
    assert_eq!(signup_from(&app, Some("203.0.113.1"), "a3@example.com").await, 429);
    // Another client behind the same proxy has a budget of its own.
    assert_eq!(signup_from(&app, Some("203.0.113.2"), "b1@example.com").await, 202);
    // A client that writes its own first entry is still counted by what the proxy saw.
    assert_eq!(signup_from(&app, Some("198.51.100.99, 203.0.113.1"), "a4@example.com").await, 429);
    // IPv6 clients are counted by their /64.
    assert_eq!(signup_from(&app, Some("2001:db8:0:1::1"), "c1@example.com").await, 202);
    assert_eq!(signup_from(&app, Some("2001:db8:0:1::2"), "c2@example.com").await, 202);
    assert_eq!(signup_from(&app, Some("2001:db8:0:1:ffff::3"), "c3@example.com").await, 429);
    assert_eq!(signup_from(&app, Some("2001:db8:0:2::1"), "d1@example.com").await, 202);
    // Garbage where the client's address should be: counted under the proxy itself.
    let long = "9".repeat(10 * 1024);
    for garbage in ["garbage", "fe80::1%eth0", "", long.as_str()] {
        let email = format!("g{}@example.com", garbage.len());
        let status = signup_from(&app, Some(garbage), &email).await;
        assert!(status == 202 || status == 429, "{status}");
    }
    assert_eq!(signup_from(&app, None, "p9@example.com").await, 429, "the proxy's own budget is spent");
}

#[tokio::test]
async fn from_an_untrusted_peer_a_forwarded_header_changes_nothing() {
    for trusted in [None, Some("10.0.0.0/8")] {
        let mut builder = TestApp::builder().env("CHATPASS_SIGNUPS_PER_IP", "2");
        if let Some(list) = trusted {
            builder = builder.env("CHATPASS_TRUSTED_PROXIES", list);
        }
        let app = builder.spawn().await;
        assert_eq!(signup_from(&app, Some("203.0.113.1"), "a1@example.com").await, 202);
        assert_eq!(signup_from(&app, Some("203.0.113.2"), "a2@example.com").await, 202);
        assert_eq!(signup_from(&app, Some("203.0.113.3"), "a3@example.com").await, 429, "{trusted:?}");
        assert_eq!(signup_from(&app, None, "a4@example.com").await, 429, "{trusted:?}");
    }
}

#[tokio::test]
async fn behind_a_proxy_the_owner_logs_in_while_another_client_is_limited() {
    let app = TestApp::builder()
        .env("CHATPASS_TRUSTED_PROXIES", "127.0.0.1")
        .env("CHATPASS_LOGIN_FAILURES_PER_IP", "3")
        .spawn()
        .await;
    assert_eq!(app.register("ann@example.com", GOOD).await.status(), 200);
    let attacker = common::client();
    for i in 0..3 {
        let email = format!("random{i}@example.com");
        assert_eq!(login_from(&app, &attacker, "203.0.113.7", &email, "wrong guess").await, 401);
    }
    assert_eq!(login_from(&app, &attacker, "203.0.113.7", "ann@example.com", GOOD).await, 429);
    let owner = common::client();
    assert_eq!(login_from(&app, &owner, "203.0.113.8", "ann@example.com", GOOD).await, 200);
    assert_eq!(app.whoami_with(&owner).await.as_deref(), Some("ann@example.com"));
}
