//! Sign-in with the team's OpenID provider, through the real router and a real provider
//! (`oidc-provider`, started by the test on a loopback port).

use crate::common;

use common::{
    oidc::{OidcConfig, OidcProvider},
    TestApp,
};

mod web;

/// chatpass on a port chosen first, so the provider can be told the callback URL, and the
/// provider started with `config` (its redirect URI set to that callback).
pub async fn with_provider(
    config: impl FnOnce(OidcConfig) -> OidcConfig,
    env: &[(&str, &str)],
) -> (TestApp, OidcProvider) {
    let port = common::mail::free_port();
    let callback = format!("http://127.0.0.1:{port}/auth/oidc/callback");
    let provider = OidcProvider::start(config(OidcConfig::new(&callback)));
    let mut builder = TestApp::builder()
        .env("LEPTOS_SITE_ADDR", &format!("127.0.0.1:{port}"))
        .env("CHATPASS_OIDC_ISSUER", provider.issuer())
        .env("CHATPASS_OIDC_CLIENT_ID", provider.client_id())
        .env("CHATPASS_OIDC_CLIENT_SECRET", provider.client_secret())
        .env("CHATPASS_OIDC_NAME", "Acme SSO");
    for (k, v) in env {
        builder = builder.env(k, v);
    }
    let app = builder.spawn().await;
    // Discovery runs in the background from the start: wait for /readyz, not a clock.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while app.get("/readyz").await.status() != 200 {
        assert!(std::time::Instant::now() < deadline, "the provider was never discovered");
        tokio::task::yield_now().await;
    }
    (app, provider)
}

impl TestApp {
    /// Starts a sign-in in `browser` (`next` as given), signs in at the provider as
    /// `login`, and follows the provider's redirect back to chatpass: chatpass's answer.
    pub async fn oidc_sign_in(
        &self,
        provider: &OidcProvider,
        browser: &reqwest::Client,
        login: &str,
        next: &str,
    ) -> reqwest::Response {
        let start = browser.get(self.url(&format!("/auth/oidc/start?next={next}"))).send().await.unwrap();
        assert_eq!(start.status(), 303, "start: {}", start.text().await.unwrap_or_default());
        let authorize = start.headers()["location"].to_str().unwrap().to_string();
        let back = provider.sign_in(&authorize, login).await;
        browser.get(back).send().await.unwrap()
    }
}
