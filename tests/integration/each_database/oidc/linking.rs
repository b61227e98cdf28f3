//! Which account a provider's user lands on: the linked one (whatever its email is now),
//! a proven one with that email, a squatted one taken over, or a new one; one, however many
//! first sign-ins race.

use super::{app_for, callback_url, refusal, wait_until_ready, with_provider};
use crate::common::{
    self,
    fixtures::GOOD,
    oidc::{OidcConfig, OidcProvider},
};

/// The provider's user `u-ann` with `email`, its keys in `keys_file` (a restart keeps them).
fn ann_at(port: u16, keys_file: &std::path::Path, email: &str) -> OidcConfig {
    OidcConfig::new(&callback_url(port)).keys_file(keys_file).verified_account("u-ann", email)
}

/// `provider` stopped and started again as `config` on its port, with its client secret:
/// the same issuer and client, to chatpass.
fn restarted(provider: OidcProvider, config: OidcConfig) -> OidcProvider {
    let (port, secret) = (provider.port(), provider.client_secret().to_string());
    drop(provider);
    OidcProvider::start(config.set("port", port).set("client_secret", secret.as_str()))
}

#[tokio::test]
async fn a_changed_email_at_the_provider_keeps_the_account_and_updates_its_email() {
    let keys = tempfile::tempdir().unwrap();
    let keys_file = keys.path().join("keys.json");
    let port = common::mail::free_port();
    let provider = OidcProvider::start(ann_at(port, &keys_file, "ann@example.com"));
    let app = app_for(&provider, port, &[]).await;
    wait_until_ready(&app).await;
    let before = app.oidc_browser(&provider, "u-ann").await;
    assert_eq!(app.chat_token_with(&before).await.identity, "ann@example.com");
    // The provider restarts (same port, same keys) with the user's new address.
    let provider = restarted(provider, ann_at(port, &keys_file, "ann.lee@example.org"));
    let after = app.oidc_browser(&provider, "u-ann").await;
    assert_eq!(app.whoami_with(&after).await.as_deref(), Some("ann.lee@example.org"));
    assert_eq!(app.user_count().await, 1, "the same account");
    assert_eq!(app.link_count().await, 1);
    assert_eq!(app.stored_credentials().await.0, "ann.lee@example.org");
}

#[tokio::test]
async fn a_changed_email_that_another_account_holds_keeps_the_stored_one() {
    let keys = tempfile::tempdir().unwrap();
    let keys_file = keys.path().join("keys.json");
    let port = common::mail::free_port();
    let provider = OidcProvider::start(ann_at(port, &keys_file, "ann@example.com"));
    let app = app_for(&provider, port, &[]).await;
    wait_until_ready(&app).await;
    app.oidc_browser(&provider, "u-ann").await;
    let bob = app.proven_user("bob@example.com").await;
    let provider = restarted(provider, ann_at(port, &keys_file, "bob@example.com"));
    let ann = app.oidc_browser(&provider, "u-ann").await;
    assert_eq!(app.whoami_with(&ann).await.as_deref(), Some("ann@example.com"), "kept");
    assert_eq!(app.whoami_with(&bob.client).await.as_deref(), Some("bob@example.com"));
    assert_eq!(app.user_count().await, 2);
}

#[tokio::test]
async fn a_squatted_unproven_account_is_taken_over_its_password_sessions_and_devices_end() {
    let (app, provider) = with_provider(|c| c.verified_account("u-ceo", "ceo@example.com"), &[]).await;
    let email = "ceo@example.com";
    let squatters_password = "an attacker's chosen passphrase";
    app.legacy_account(email, squatters_password).await;
    let squatter = app.logged_in_browser(email, squatters_password, None).await;
    let device = app.create_device(email, squatters_password, "evil").await;
    let device: chatpass::devices::NewDevice = common::answer(device, 201).await;

    let owner = app.oidc_browser(&provider, "u-ceo").await;
    assert_eq!(app.chat_token_with(&owner).await.identity, email);
    assert_eq!(app.user_count().await, 1, "the same account, taken over");
    assert_eq!(app.link_count().await, 1);
    assert_eq!(app.whoami_with(&squatter).await, None, "the squatter's session ended");
    common::devices::assert_invalid_token(
        app.chat_token_with_bearer(&device.device_token).await,
        "the squatter's device",
    )
    .await;
    assert_eq!(app.device_count().await, 0);
    let form = [("email", email), ("password", squatters_password)];
    let login = app.post_form_with(&common::client(), "/api/login", &form).await;
    assert_eq!(login.status(), 401, "the squatter's password is void");
    assert_eq!(app.create_device(email, squatters_password, "evil").await.status(), 401);
}

#[tokio::test]
async fn a_proven_account_with_that_email_is_linked_and_keeps_its_password() {
    let (app, provider) = with_provider(|c| c.verified_account("u-ann", "ann@example.com"), &[]).await;
    let ann = app.proven_user("ann@example.com").await;
    let device = app.device_of(&ann, "phone").await;
    let sso = app.oidc_browser(&provider, "u-ann").await;
    assert_eq!(app.chat_token_with(&sso).await.identity, "ann@example.com");
    assert_eq!(app.user_count().await, 1);
    assert_eq!(app.link_count().await, 1);
    // Nothing of the owner's own ended: password, session, device.
    app.logged_in_browser(&ann.email, GOOD, None).await;
    assert_eq!(app.whoami_with(&ann.client).await.as_deref(), Some("ann@example.com"));
    assert_eq!(app.bearer_status(&device.device_token).await, 200);
}

#[tokio::test]
async fn an_account_linked_to_another_user_of_the_provider_is_refused() {
    let (app, provider) = with_provider(
        |c| c.verified_account("u-ann", "ann@example.com").verified_account("u-imposter", "ann@example.com"),
        &[],
    )
    .await;
    app.oidc_browser(&provider, "u-ann").await;
    let other = common::client();
    let answer = app.oidc_sign_in(&provider, &other, "u-imposter", "/chat").await;
    assert_eq!(refusal(answer).await, "linked_to_another");
    assert_eq!(app.whoami_with(&other).await, None);
    assert_eq!(app.user_count().await, 1);
    assert_eq!(app.link_count().await, 1);
}

#[tokio::test]
async fn two_first_sign_ins_at_once_make_one_account_and_one_link() {
    let users = ["u-1", "u-2", "u-3"];
    let (app, provider) = with_provider(
        |c| users.iter().fold(c, |c, sub| c.verified_account(sub, &format!("{sub}@example.com"))),
        &[],
    )
    .await;
    for (round, sub) in users.iter().enumerate() {
        let browsers: Vec<reqwest::Client> = (0..2).map(|_| common::client()).collect();
        let mut urls = Vec::new();
        for browser in &browsers {
            urls.push(app.oidc_callback_url(&provider, browser, sub, "/chat").await);
        }
        let (a, b) = tokio::join!(browsers[0].get(&urls[0]).send(), browsers[1].get(&urls[1]).send());
        for answer in [a.unwrap(), b.unwrap()] {
            let (status, location) = (answer.status(), answer.headers().get("location").cloned());
            assert_eq!(status, 303, "{sub}: {}", answer.text().await.unwrap_or_default());
            assert_eq!(location.unwrap(), "/chat", "{sub}");
        }
        for browser in &browsers {
            assert_eq!(app.chat_token_with(browser).await.identity, format!("{sub}@example.com"));
        }
        assert_eq!(app.user_count().await, round as i64 + 1, "{sub}: one account");
        assert_eq!(app.link_count().await, round as i64 + 1, "{sub}: one link");
    }
}

#[tokio::test]
async fn after_the_provider_rotates_its_keys_the_web_sign_in_works_again() {
    let port = common::mail::free_port();
    let provider = OidcProvider::start(
        OidcConfig::new(&callback_url(port)).verified_account("u-ann", "ann@example.com"),
    );
    let app = app_for(&provider, port, &[]).await;
    wait_until_ready(&app).await;
    app.oidc_browser(&provider, "u-ann").await;
    let (provider_port, secret) = (provider.port(), provider.client_secret().to_string());
    drop(provider);
    // The same provider with new keys (no keys_file: fresh ones).
    let provider = OidcProvider::start(
        OidcConfig::new(&callback_url(port))
            .set("port", provider_port)
            .set("client_secret", secret.as_str())
            .verified_account("u-ann", "ann@example.com"),
    );
    // The keys may be fetched again at most every few seconds: sign-ins until one works.
    super::poll(
        std::time::Duration::from_secs(20),
        "no web sign-in worked after the key rotation",
        || async {
            let browser = common::client();
            let back = app.oidc_sign_in(&provider, &browser, "u-ann", "/chat").await;
            back.headers().get("location").is_some_and(|l| l == "/chat")
        },
    )
    .await;
    assert_eq!(app.user_count().await, 1);
}
