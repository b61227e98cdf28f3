//! Sign-in with the team's OpenID provider, through the real router and a real provider
//! (`oidc-provider`, started by the test on a loopback port).

use std::time::{Duration, Instant};

use crate::common;

use common::{
    oidc::{OidcConfig, OidcProvider},
    TestApp,
};

mod bearer;
mod callback;
mod discovery;
mod email_claims;
mod id_token;
mod linking;
mod secrets;
mod web;

/// chatpass on a port chosen first, so the provider can be told the callback URL, and the
/// provider started with `config` (its redirect URI set to that callback).
pub async fn with_provider(
    config: impl FnOnce(OidcConfig) -> OidcConfig,
    env: &[(&str, &str)],
) -> (TestApp, OidcProvider) {
    let port = common::mail::free_port();
    let provider = OidcProvider::start(config(OidcConfig::new(&callback_url(port))));
    let app = app_for(&provider, port, env).await;
    wait_until_ready(&app).await;
    (app, provider)
}

/// chatpass's callback URL when it listens on `port`.
pub fn callback_url(port: u16) -> String {
    format!("http://127.0.0.1:{port}/auth/oidc/callback")
}

/// chatpass on `port`, configured for `provider` (and `env`); not waiting for discovery.
pub async fn app_for(provider: &OidcProvider, port: u16, env: &[(&str, &str)]) -> TestApp {
    let mut builder = TestApp::builder()
        .env("LEPTOS_SITE_ADDR", &format!("127.0.0.1:{port}"))
        .env("CHATPASS_OIDC_ISSUER", provider.issuer())
        .env("CHATPASS_OIDC_CLIENT_ID", provider.client_id())
        .env("CHATPASS_OIDC_CLIENT_SECRET", provider.client_secret())
        .env("CHATPASS_OIDC_NAME", "Acme SSO");
    for (k, v) in env {
        builder = builder.env(k, v);
    }
    builder.spawn().await
}

/// Discovery runs in the background from the start: waits for `/readyz`, not a clock.
pub async fn wait_until_ready(app: &TestApp) {
    poll(Duration::from_secs(30), "the provider was never discovered", || async {
        app.get("/readyz").await.status() == 200
    })
    .await;
}

/// Polls `condition` until it holds; fails with `what` after `within`.
pub async fn poll<F, Fut>(within: Duration, what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    while !condition().await {
        assert!(Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// The `sso` reason of a refused sign-in: the answer must be a 303 to `/login?sso=<why>`.
pub async fn refusal(response: reqwest::Response) -> String {
    let status = response.status();
    let location = response.headers().get("location").and_then(|l| l.to_str().ok()).map(str::to_string);
    let body = response.text().await.unwrap_or_default();
    assert_eq!(status, 303, "a refusal redirects: {body}");
    let location = location.expect("a Location");
    location.strip_prefix("/login?sso=").unwrap_or_else(|| panic!("{location} is not a refusal")).to_string()
}

impl TestApp {
    /// Starts a sign-in in `browser` (`next` as given): the provider's authorization URL.
    pub async fn oidc_start(&self, browser: &reqwest::Client, next: &str) -> String {
        let start = browser.get(self.url(&format!("/auth/oidc/start?next={next}"))).send().await.unwrap();
        assert_eq!(start.status(), 303, "start: {}", start.text().await.unwrap_or_default());
        start.headers()["location"].to_str().unwrap().to_string()
    }

    /// Starts a sign-in in `browser` and signs in at the provider as `login`: the URL the
    /// provider sends the browser back to (chatpass's callback, not yet visited).
    pub async fn oidc_callback_url(
        &self,
        provider: &OidcProvider,
        browser: &reqwest::Client,
        login: &str,
        next: &str,
    ) -> String {
        let authorize = self.oidc_start(browser, next).await;
        let back = provider.sign_in(&authorize, login).await;
        assert!(back.starts_with(&self.url("/auth/oidc/callback?")), "{back}");
        back
    }

    /// Starts a sign-in in `browser` (`next` as given), signs in at the provider as
    /// `login`, and follows the provider's redirect back to chatpass: chatpass's answer.
    pub async fn oidc_sign_in(
        &self,
        provider: &OidcProvider,
        browser: &reqwest::Client,
        login: &str,
        next: &str,
    ) -> reqwest::Response {
        let back = self.oidc_callback_url(provider, browser, login, next).await;
        browser.get(back).send().await.unwrap()
    }

    /// A new browser signed in through the provider as `login`: it must land on `/chat`.
    pub async fn oidc_browser(&self, provider: &OidcProvider, login: &str) -> reqwest::Client {
        let browser = common::client();
        let back = self.oidc_sign_in(provider, &browser, login, "/chat").await;
        assert_eq!(back.status(), 303, "{}", back.text().await.unwrap_or_default());
        assert_eq!(back.headers()["location"], "/chat");
        browser
    }

    /// How many accounts are linked to a provider's user.
    pub async fn link_count(&self) -> i64 {
        common::count(&self.pool, "SELECT COUNT(*) FROM identity_links").await
    }

    /// Asserts that no account and no link exist, and that `browser` is not signed in.
    pub async fn assert_nobody_signed_in(&self, browser: &reqwest::Client, what: &str) {
        assert_eq!(self.user_count().await, 0, "{what}: no account");
        assert_eq!(self.link_count().await, 0, "{what}: no link");
        assert_eq!(self.whoami_with(browser).await, None, "{what}: not signed in");
    }
}
