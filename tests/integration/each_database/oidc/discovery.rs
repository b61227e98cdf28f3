//! A provider that cannot be discovered at start does not stop chatpass: `/readyz` says
//! `oidc` and the sign-in answers 503 in words until discovery succeeds (retried).

use std::time::Duration;

use serde_json::Value;

use super::{app_for, callback_url, poll, wait_until_ready};
use crate::common::{
    self,
    oidc::{OidcConfig, OidcProvider, SignedBy},
};

#[tokio::test]
async fn until_the_provider_is_discovered_readyz_says_oidc_and_the_sign_in_answers_503() {
    let port = common::mail::free_port();
    let provider = OidcProvider::start(
        OidcConfig::new(&callback_url(port)).verified_account("u-ann", "ann@example.com"),
    );
    provider.set_discovery_down(true).await;
    let app = app_for(&provider, port, &[]).await;
    // chatpass started and asked at least once.
    poll(Duration::from_secs(20), "chatpass never asked for the discovery document", || async {
        provider.discovery_fetches().await > 0
    })
    .await;
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 503);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["reason"], "oidc", "{body}");
    let browser = common::client();
    let start = browser.get(app.url("/auth/oidc/start?next=/chat")).send().await.unwrap();
    assert_eq!(start.status(), 503);
    assert!(start.headers().contains_key("retry-after"));
    let words = start.text().await.unwrap();
    assert!(words.contains("Acme SSO") && words.contains("not available"), "{words}");
    assert!(!words.contains(provider.client_secret()));
    // A bearer JWT meanwhile: the keys cannot be had, 503 (not 401).
    let token = provider.sign(provider.access_claims("u-ann"), SignedBy::Provider).await;
    assert_eq!(app.bearer_status(&token).await, 503);
    // Passwords still work meanwhile.
    assert_eq!(app.get("/healthz").await.status(), 200);

    provider.set_discovery_down(false).await;
    wait_until_ready(&app).await;
    let back = app.oidc_sign_in(&provider, &browser, "u-ann", "/chat").await;
    assert_eq!(back.status(), 303);
    assert_eq!(back.headers()["location"], "/chat");
    assert_eq!(app.whoami_with(&browser).await.as_deref(), Some("ann@example.com"));
    assert_eq!(app.bearer_status(&token).await, 200);
}
