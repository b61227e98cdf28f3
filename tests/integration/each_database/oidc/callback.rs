//! The callback refuses what it did not start: a wrong, missing or reused `state`, a code
//! redeemed already. Each a redirect to `/login?sso=…`, no account, no session.

use super::{refusal, with_provider};
use crate::common;

/// `url` with query key `key` set to `value` (`None`: removed).
fn with_param(url: &str, key: &str, value: Option<&str>) -> String {
    let mut parsed = url::Url::parse(url).unwrap();
    let kept: Vec<(String, String)> = parsed.query_pairs().into_owned().filter(|(k, _)| k != key).collect();
    let mut query = parsed.query_pairs_mut();
    query.clear();
    for (k, v) in &kept {
        query.append_pair(k, v);
    }
    if let Some(value) = value {
        query.append_pair(key, value);
    }
    drop(query);
    parsed.to_string()
}

fn param(url: &str, key: &str) -> String {
    url::Url::parse(url).unwrap().query_pairs().find(|(k, _)| k == key).expect(key).1.into_owned()
}

#[tokio::test]
async fn a_wrong_or_missing_state_is_refused_as_expired_and_ends_that_sign_in() {
    let (app, provider) = with_provider(|c| c.verified_account("u-ann", "ann@example.com"), &[]).await;
    for (what, change) in [("wrong", Some("not-the-state")), ("empty", Some("")), ("missing", None)] {
        let browser = common::client();
        let back = app.oidc_callback_url(&provider, &browser, "u-ann", "/chat").await;
        let state = param(&back, "state");
        let answer = browser.get(with_param(&back, "state", change)).send().await.unwrap();
        assert_eq!(refusal(answer).await, "expired", "{what} state");
        app.assert_nobody_signed_in(&browser, what).await;
        // The refusal ended the sign-in under way: the right state no longer works either.
        let answer = browser.get(with_param(&back, "state", Some(&state))).send().await.unwrap();
        assert_eq!(refusal(answer).await, "expired", "{what} state, then the right one");
        app.assert_nobody_signed_in(&browser, what).await;
    }
}

#[tokio::test]
async fn a_callback_in_a_browser_that_started_no_sign_in_is_refused() {
    let (app, provider) = with_provider(|c| c.verified_account("u-ann", "ann@example.com"), &[]).await;
    let victim = common::client();
    let back = app.oidc_callback_url(&provider, &victim, "u-ann", "/chat").await;
    // Login CSRF: another browser is sent the callback URL; it has no sign-in under way.
    let other = common::client();
    assert_eq!(refusal(other.get(&back).send().await.unwrap()).await, "expired");
    app.assert_nobody_signed_in(&other, "another browser").await;
    // No state and no code at all.
    let bare = other.get(app.url("/auth/oidc/callback")).send().await.unwrap();
    assert_eq!(refusal(bare).await, "expired");
    app.assert_nobody_signed_in(&other, "a bare callback").await;
}

#[tokio::test]
async fn a_used_callback_cannot_be_used_again() {
    let (app, provider) = with_provider(|c| c.verified_account("u-ann", "ann@example.com"), &[]).await;
    let browser = common::client();
    let back = app.oidc_callback_url(&provider, &browser, "u-ann", "/chat").await;
    assert_eq!(browser.get(&back).send().await.unwrap().status(), 303);
    assert_eq!(app.whoami_with(&browser).await.as_deref(), Some("ann@example.com"));
    // The same URL again (a reused state): refused, and the session it made is kept.
    assert_eq!(refusal(browser.get(&back).send().await.unwrap()).await, "expired");
    assert_eq!(app.whoami_with(&browser).await.as_deref(), Some("ann@example.com"));
    let stranger = common::client();
    assert_eq!(refusal(stranger.get(&back).send().await.unwrap()).await, "expired");
    assert_eq!(app.whoami_with(&stranger).await, None, "the reused URL elsewhere");
    assert_eq!(app.user_count().await, 1);
}

#[tokio::test]
async fn a_code_redeemed_already_is_refused_by_the_provider() {
    let (app, provider) = with_provider(|c| c.verified_account("u-ann", "ann@example.com"), &[]).await;
    let first = common::client();
    let back = app.oidc_callback_url(&provider, &first, "u-ann", "/chat").await;
    assert_eq!(first.get(&back).send().await.unwrap().status(), 303);
    // Another browser starts its own sign-in (its own state) and sends the used code
    // with that state: the state passes, the provider refuses the code.
    let second = common::client();
    let authorize = app.oidc_start(&second, "/chat").await;
    let state = param(&authorize, "state");
    let replay = with_param(&back, "state", Some(&state));
    assert_eq!(refusal(second.get(&replay).send().await.unwrap()).await, "provider");
    assert_eq!(app.whoami_with(&second).await, None);
    assert_eq!(app.user_count().await, 1);
    assert_eq!(app.link_count().await, 1);
}

#[tokio::test]
async fn the_providers_error_answer_is_refused_as_provider() {
    let (app, provider) = with_provider(|c| c.verified_account("u-ann", "ann@example.com"), &[]).await;
    let browser = common::client();
    let authorize = app.oidc_start(&browser, "/chat").await;
    let state = param(&authorize, "state");
    // What a provider sends back when the user says no: an error, the state, no code.
    let denied = app.url(&format!("/auth/oidc/callback?error=access_denied&state={state}"));
    assert_eq!(refusal(browser.get(denied).send().await.unwrap()).await, "provider");
    app.assert_nobody_signed_in(&browser, "denied").await;
    drop(provider);
}
