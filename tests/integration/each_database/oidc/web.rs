//! The web sign-in: the provider's page, the callback, the account it lands on.

use super::with_provider;
use crate::common;

#[tokio::test]
async fn a_provider_user_signs_in_lands_on_next_and_gets_a_token_for_their_email() {
    let (app, provider) = with_provider(|c| c.verified_account("u-ann", "Ann@Example.com"), &[]).await;
    let browser = common::client();
    let back = app.oidc_sign_in(&provider, &browser, "u-ann", "/chat").await;
    assert_eq!(back.status(), 303, "{}", back.text().await.unwrap_or_default());
    assert_eq!(back.headers()["location"], "/chat");
    let token = app.chat_token_with(&browser).await;
    assert_eq!(token.identity, "ann@example.com");
    assert_eq!(app.user_count().await, 1);
}

#[tokio::test]
async fn a_next_off_site_lands_on_the_default_page() {
    let (app, provider) = with_provider(|c| c.verified_account("u-ann", "ann@example.com"), &[]).await;
    // As the browser sends them: percent-encoded in the query.
    for next in ["https%3A%2F%2Fevil.example%2Fx", "%2F%2Fevil.example", "%2F%5Cevil.example", "evil.example"]
    {
        let browser = common::client();
        let back = app.oidc_sign_in(&provider, &browser, "u-ann", next).await;
        assert_eq!(back.status(), 303, "{next}");
        assert_eq!(back.headers()["location"], "/chat", "{next}");
        assert_eq!(app.whoami_with(&browser).await.as_deref(), Some("ann@example.com"), "{next}");
    }
    // A path of this site is kept.
    let browser = common::client();
    let back = app.oidc_sign_in(&provider, &browser, "u-ann", "%2Faccount").await;
    assert_eq!(back.headers()["location"], "/account");
    assert_eq!(app.user_count().await, 1);
    assert_eq!(app.link_count().await, 1);
}

#[tokio::test]
async fn a_returning_user_gets_the_same_account_and_a_new_session_id() {
    let (app, provider) = with_provider(|c| c.verified_account("u-ann", "ann@example.com"), &[]).await;
    let first = app.oidc_browser(&provider, "u-ann").await;
    let first_token = app.chat_token_with(&first).await;
    // The same browser signs in again: its session id changes (no fixation).
    let (before, _) = app.session_of("ann@example.com").await;
    let again = app.oidc_sign_in(&provider, &first, "u-ann", "/chat").await;
    assert_eq!(again.status(), 303);
    let second = app.oidc_browser(&provider, "u-ann").await;
    assert_eq!(app.chat_token_with(&second).await.identity, first_token.identity);
    assert_eq!(app.user_count().await, 1);
    assert_eq!(app.link_count().await, 1);
    assert_eq!(app.chat_token_with_session_id(&before).await, 401, "the old session id is dead");
}
